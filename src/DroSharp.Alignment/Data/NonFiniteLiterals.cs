using System.Text;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Python's json module writes NaN and ±Infinity as bare <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>, which
/// are not JSON. Rather than report such a row as malformed, they are turned into marked strings before parsing
/// so the field that holds one can be named ("reward is NaN"); the marker (a Unicode noncharacter) keeps a bare
/// NaN in a text field from passing for the text "NaN".
/// </summary>
internal static class NonFiniteLiterals
{
    // Two noncharacters: text may hold noncharacters (they are valid in JSON and UTF-8), so only a string that is
    // exactly the marker followed by one of the literals counts as marked.
    private const string Marker = "\uFDD0\uFDEF";

    private static readonly string[] Literals = ["-Infinity", "Infinity", "NaN"];

    /// <summary>The bare literal a marked string stands for, or null for an ordinary string (one that merely starts with a noncharacter too).</summary>
    public static string? Unmark(string s)
    {
        if (!s.StartsWith(Marker, StringComparison.Ordinal)) return null;
        foreach (var literal in Literals)
            if (s.Length == Marker.Length + literal.Length && string.CompareOrdinal(s, Marker.Length, literal, 0, literal.Length) == 0) return literal;
        return null;
    }

    /// <summary>The text with bare non-finite literals outside strings quoted; the same instance when there are none.</summary>
    public static string Quote(string json)
    {
        if (!json.Contains("NaN", StringComparison.Ordinal) && !json.Contains("Infinity", StringComparison.Ordinal)) return json;
        StringBuilder? sb = null;
        int copied = 0;
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; continue; }
            if (c != 'N' && c != 'I' && c != '-') continue;
            if (i > 0 && IsWordChar(json[i - 1])) continue;
            foreach (var literal in Literals)
            {
                if (string.CompareOrdinal(json, i, literal, 0, literal.Length) != 0) continue;
                int end = i + literal.Length;
                if (end < json.Length && IsWordChar(json[end])) continue;
                sb ??= new StringBuilder(json.Length + 8);
                sb.Append(json, copied, i - copied).Append('"').Append(Marker).Append(literal).Append('"');
                copied = end;
                i = end - 1;
                break;
            }
        }
        if (sb is null) return json;
        sb.Append(json, copied, json.Length - copied);
        return sb.ToString();
    }

    /// <summary>True for spellings of NaN or ±infinity in JSON strings and CSV cells (case-insensitive).</summary>
    public static bool IsNonFiniteSpelling(string s)
    {
        string t = s.Trim();
        if (t.Length > 0 && (t[0] == '+' || t[0] == '-')) t = t[1..];
        return t.Equals("nan", StringComparison.OrdinalIgnoreCase)
            || t.Equals("inf", StringComparison.OrdinalIgnoreCase)
            || t.Equals("infinity", StringComparison.OrdinalIgnoreCase)
            || t == "∞";
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_' || c == '.';
}
