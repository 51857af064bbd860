using System.Globalization;

namespace DroSharp.Text;

/// <summary>Character classes as HF's Rust code and its Oniguruma regexes define them, by code point.</summary>
internal static class CharClasses
{
    /// <summary>White_Space (Rust <c>char::is_whitespace</c>, Oniguruma <c>\s</c>); no code point above U+FFFF has it.</summary>
    public static bool IsWhitespace(int cp) => cp <= 0xFFFF && char.IsWhiteSpace((char)cp);

    /// <summary>
    /// Oniguruma's Unicode <c>\w</c>: Alphabetic, marks, decimal digits, connector punctuation and Join_Control.
    /// Differs from .NET's <c>\w</c>, which lacks Mc/Me, Nl, U+200C/U+200D and the alphabetic symbols (Ⓐ, 🄰).
    /// </summary>
    public static bool IsWord(int cp)
    {
        if (cp < 0x80) return cp is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';
        if (cp is 0x200C or 0x200D) return true;
        if (cp is (>= 0x24B6 and <= 0x24E9) or (>= 0x1F130 and <= 0x1F149) or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189))
            return true;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation;
    }

    /// <summary>ASCII punctuation or a Unicode P* category (HF <c>is_punc</c>).</summary>
    public static bool IsPunctuation(int cp)
    {
        if (cp < 0x80) return cp is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~');
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>Rust <c>char::is_numeric</c>: Nd, Nl or No.</summary>
    public static bool IsNumeric(int cp) =>
        CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
}
