namespace DroSharp.Text;

/// <summary>Code-point helpers over UTF-16 strings (Rust iterates <c>char</c>s, i.e. code points).</summary>
internal static class Utf16
{
    /// <summary>The code point at <paramref name="index"/> and its UTF-16 width; a lone surrogate is returned as itself.</summary>
    public static int CodePointAt(string s, int index, out int width)
    {
        char c = s[index];
        if (char.IsHighSurrogate(c) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, s[index + 1]);
        }
        width = 1;
        return c;
    }

    /// <summary>UTF-16 width of the code point starting at <paramref name="index"/>.</summary>
    public static int WidthAt(string s, int index) =>
        char.IsHighSurrogate(s[index]) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]) ? 2 : 1;

    /// <summary>Compares strings by code point (Rust's <c>str</c> ordering), not by UTF-16 unit.</summary>
    public static int CompareCodePoints(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x == y) continue;
            // Surrogates (D800–DFFF) encode code points above U+FFFF, so they sort after E000–FFFF.
            bool sx = char.IsSurrogate(x), sy = char.IsSurrogate(y);
            if (sx != sy) return sx ? 1 : -1;
            return x < y ? -1 : 1;
        }
        return a.Length.CompareTo(b.Length);
    }

    public static readonly IComparer<string> CodePointComparer = Comparer<string>.Create(CompareCodePoints);
}
