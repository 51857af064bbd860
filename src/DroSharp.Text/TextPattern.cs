using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DroSharp.Text;

/// <summary>
/// A tokenizer.json pattern, <c>{"String": "…"}</c> (literal) or <c>{"Regex": "…"}</c> (Oniguruma syntax),
/// matched the way HF does: leftmost, non-overlapping, over code points.
/// </summary>
/// <remarks>
/// .NET's <see cref="Regex"/> sees UTF-16 units, so a character above U+FFFF is two "characters" of
/// category Cs: <c>\p{L}</c> would not match 𝐀 and an optional <c>[^\p{L}]?</c> could split an emoji's
/// surrogate pair. When the text has surrogate pairs we therefore match against a proxy string in which
/// each such code point is replaced by one BMP character of the same general category, then map the match
/// boundaries back. Possessive quantifiers (<c>?+ *+ ++ {n,m}+</c>, used by tiktoken-style patterns) are
/// rewritten as atomic groups, which .NET supports.
/// </remarks>
internal sealed class TextPattern
{
    private readonly Regex? _regex;

    public string Source { get; }
    public bool IsRegex { get; }

    private TextPattern(string source, bool isRegex)
    {
        Source = source;
        IsRegex = isRegex;
        if (isRegex)
            _regex = new Regex(TranslatePossessive(source), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    public static TextPattern Literal(string s) => new(s, false);
    public static TextPattern FromRegex(string pattern) => new(pattern, true);

    /// <summary>Appends the non-overlapping matches of this pattern in <paramref name="text"/> as [start, end) UTF-16 ranges.</summary>
    public void FindMatches(string text, List<(int Start, int End)> matches)
    {
        if (text.Length == 0) return;
        if (!IsRegex)
        {
            if (Source.Length == 0) return;
            int at = 0;
            while ((at = text.IndexOf(Source, at, StringComparison.Ordinal)) >= 0)
            {
                matches.Add((at, at + Source.Length));
                at += Source.Length;
            }
            return;
        }

        if (!HasSurrogatePair(text))
        {
            for (var m = _regex!.Match(text); m.Success; m = m.NextMatch())
                matches.Add((m.Index, m.Index + m.Length));
            return;
        }

        // proxy[i] stands for the code point starting at text[map[i]]; map[proxy.Length] = text.Length.
        var proxy = new StringBuilder(text.Length);
        var map = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length;)
        {
            map.Add(i);
            int width = Utf16.WidthAt(text, i);
            proxy.Append(width == 2 ? ProxyFor(CharUnicodeInfo.GetUnicodeCategory(text, i)) : text[i]);
            i += width;
        }
        map.Add(text.Length);
        for (var m = _regex!.Match(proxy.ToString()); m.Success; m = m.NextMatch())
            matches.Add((map[m.Index], map[m.Index + m.Length]));
    }

    public string ReplaceAll(string text, string content)
    {
        var matches = new List<(int Start, int End)>();
        FindMatches(text, matches);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length + matches.Count * content.Length);
        int prev = 0;
        foreach (var (s, e) in matches)
        {
            sb.Append(text, prev, s - prev).Append(content);
            prev = e;
        }
        sb.Append(text, prev, text.Length - prev);
        return sb.ToString();
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString(IsRegex ? "Regex" : "String", Source);
        writer.WriteEndObject();
    }

    private static bool HasSurrogatePair(string text)
    {
        for (int i = 0; i + 1 < text.Length; i++)
            if (char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1])) return true;
        return false;
    }

    /// <summary>A BMP character of the given category that is not whitespace and unlikely to be a pattern literal.</summary>
    private static char ProxyFor(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u0429',
        UnicodeCategory.LowercaseLetter => '\u0449',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u05D0',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u2E02',
        UnicodeCategory.FinalQuotePunctuation => '\u2E03',
        UnicodeCategory.OtherPunctuation => '\u00B6',
        UnicodeCategory.MathSymbol => '\u2200',
        UnicodeCategory.CurrencySymbol => '\u20A0',
        UnicodeCategory.ModifierSymbol => '\u02C2',
        UnicodeCategory.OtherSymbol => '\u2600',
        UnicodeCategory.Format => '\u2060',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned
    };

    /// <summary>
    /// Rewrites possessive quantifiers as atomic groups: <c>X?+</c> → <c>(?>X?)</c>, likewise <c>*+</c>, <c>++</c>,
    /// <c>{n,m}+</c>. Tracks where each atom (escape, class, group, literal) starts so it can be wrapped.
    /// </summary>
    internal static string TranslatePossessive(string pattern)
    {
        if (!pattern.Contains("?+") && !pattern.Contains("*+") && !pattern.Contains("++") && !pattern.Contains("}+"))
            return pattern;
        var sb = new StringBuilder(pattern.Length + 16);
        var groupStarts = new Stack<int>();
        int lastAtomStart = -1;
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\\')
            {
                lastAtomStart = sb.Length;
                int end = i + 2;
                if (end <= pattern.Length && (pattern[i + 1] is 'p' or 'P' or 'x' or 'u') && end < pattern.Length && pattern[end] == '{')
                    end = pattern.IndexOf('}', end) + 1;
                else if (end <= pattern.Length && pattern[i + 1] == 'u') end = Math.Min(pattern.Length, i + 6);
                sb.Append(pattern, i, end - i);
                i = end;
            }
            else if (c == '[')
            {
                lastAtomStart = sb.Length;
                int j = i + 1, depth = 1;
                if (j < pattern.Length && pattern[j] == '^') j++;
                if (j < pattern.Length && pattern[j] == ']') j++;
                while (j < pattern.Length && depth > 0)
                {
                    if (pattern[j] == '\\') { j += 2; continue; }
                    if (pattern[j] == '[') depth++;
                    else if (pattern[j] == ']') depth--;
                    j++;
                }
                sb.Append(pattern, i, j - i);
                i = j;
            }
            else if (c == '(')
            {
                int start = sb.Length;
                int j = i + 1;
                if (j < pattern.Length && pattern[j] == '?')
                {
                    // Group prefix: (?: (?i: (?= (?! (?<= (?<! (?> (?<name> — or an inline flag setter (?i).
                    while (j < pattern.Length && pattern[j] is not (':' or '=' or '!' or '>' or ')')) j++;
                    if (j < pattern.Length && pattern[j] == ')')
                    {
                        sb.Append(pattern, i, j + 1 - i);
                        i = j + 1;
                        lastAtomStart = -1;
                        continue;
                    }
                    j++;
                }
                groupStarts.Push(start);
                sb.Append(pattern, i, j - i);
                i = j;
                lastAtomStart = -1;
            }
            else if (c == ')')
            {
                sb.Append(c);
                i++;
                lastAtomStart = groupStarts.Count > 0 ? groupStarts.Pop() : -1;
            }
            else if (c is '?' or '*' or '+' or '{')
            {
                int end = i + 1;
                if (c == '{')
                {
                    int close = pattern.IndexOf('}', i);
                    if (close < 0) { sb.Append(c); i++; continue; }
                    end = close + 1;
                }
                string quantifier = pattern.Substring(i, end - i);
                if (end < pattern.Length && pattern[end] == '+' && lastAtomStart >= 0)
                {
                    sb.Insert(lastAtomStart, "(?>");
                    sb.Append(quantifier).Append(')');
                    i = end + 1;
                }
                else
                {
                    sb.Append(quantifier);
                    i = end;
                }
                lastAtomStart = -1;
            }
            else
            {
                lastAtomStart = c is '|' or '^' or '$' ? -1 : sb.Length;
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }
}
