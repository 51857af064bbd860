using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>Removes non-spacing marks (category Mn); meant to follow NFD/NFKD (HF <c>StripAccents</c>).</summary>
internal sealed class StripAccentsNormalizer : INormalizer
{
    public string Normalize(string text) => RemoveNonSpacingMarks(text);

    internal static string RemoveNonSpacingMarks(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            bool mark = CharUnicodeInfo.GetUnicodeCategory(text, i) == UnicodeCategory.NonSpacingMark;
            int width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            if (mark)
            {
                sb ??= new StringBuilder(text, 0, i, text.Length);
            }
            else
            {
                sb?.Append(text, i, width);
            }
            i += width - 1;
        }
        return sb?.ToString() ?? text;
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "StripAccents");
        writer.WriteEndObject();
    }
}
