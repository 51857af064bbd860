using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>
/// BERT's cleanup (HF <c>BertNormalizer</c>): drop NUL/U+FFFD/control characters and map whitespace to
/// spaces, put spaces around CJK ideographs, optionally strip accents (NFD + drop Mn) and lowercase.
/// <c>strip_accents: null</c> follows <c>lowercase</c>.
/// </summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase) : INormalizer
{
    public bool CleanText { get; } = cleanText;
    public bool HandleChineseChars { get; } = handleChineseChars;
    public bool? StripAccents { get; } = stripAccents;
    public bool Lowercase { get; } = lowercase;

    public string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = Utf16.CodePointAt(text, i, out int width);
            var cat = CharUnicodeInfo.GetUnicodeCategory(text, i);
            if (CleanText)
            {
                if (cp == 0 || cp == 0xFFFD || IsControl(cp, cat)) { i += width - 1; continue; }
                if (cp is '\t' or '\n' or '\r' || (width == 1 && char.IsWhiteSpace(text[i]))) { sb.Append(' '); continue; }
            }
            if (HandleChineseChars && IsChinese(cp))
            {
                sb.Append(' ').Append(text, i, width).Append(' ');
            }
            else
            {
                sb.Append(text, i, width);
            }
            i += width - 1;
        }
        string s = sb.ToString();
        if (StripAccents ?? Lowercase) s = StripAccentsNormalizer.RemoveNonSpacingMarks(UnicodeNormalization.Normalize(s, NormalizationForm.FormD));
        if (Lowercase) s = new LowercaseNormalizer().Normalize(s);
        return s;
    }

    private static bool IsControl(int cp, UnicodeCategory cat)
    {
        if (cp is '\t' or '\n' or '\r') return false;
        return cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse;
    }

    private static bool IsChinese(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "BertNormalizer");
        writer.WriteBoolean("clean_text", CleanText);
        writer.WriteBoolean("handle_chinese_chars", HandleChineseChars);
        if (StripAccents is bool b) writer.WriteBoolean("strip_accents", b); else writer.WriteNull("strip_accents");
        writer.WriteBoolean("lowercase", Lowercase);
        writer.WriteEndObject();
    }
}
