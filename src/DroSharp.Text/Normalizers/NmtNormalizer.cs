using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>
/// SentencePiece's "nmt" cleanup (HF <c>Nmt</c>): drops ASCII control characters and maps other
/// whitespace-like code points (tab, newline, U+200B–U+200F, U+2581, BOM, U+FFFD, …) to a space.
/// </summary>
internal sealed class NmtNormalizer : INormalizer
{
    public string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case >= '\u0001' and <= '\u0008':
                case '\u000B':
                case >= '\u000E' and <= '\u001F':
                case '\u007F':
                case '\u008F':
                case '\u009F':
                    break;
                case '\u0009' or '\u000A' or '\u000C' or '\u000D' or '\u1680' or '\u2028' or '\u2029'
                    or '\u2581' or '\uFEFF' or '\uFFFD':
                case >= '\u200B' and <= '\u200F':
                    sb.Append(' ');
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Nmt");
        writer.WriteEndObject();
    }
}
