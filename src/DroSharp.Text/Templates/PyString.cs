using System.Globalization;
using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>
/// Python <c>str</c> semantics over .NET strings: lengths, indices and slices count code points (not UTF-16
/// units), whitespace is Python's <c>str.isspace()</c> set, line breaks are <c>str.splitlines()</c>'s.
/// </summary>
internal static class PyString
{
    /// <summary>Python's <c>str.isspace()</c> (also what <c>re</c>'s <c>\s</c> matches): includes \x1c–\x1f, NBSP, U+3000; not U+200B or U+FEFF.</summary>
    public static bool IsSpace(int c) => c switch
    {
        >= 0x09 and <= 0x0D => true,
        >= 0x1C and <= 0x20 => true,
        0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Line boundaries of <c>str.splitlines()</c> (\r\n counts as one).</summary>
    public static bool IsLineBreak(int c) => c is 0x0A or 0x0B or 0x0C or 0x0D or 0x1C or 0x1D or 0x1E or 0x85 or 0x2028 or 0x2029;

    public static bool HasSurrogates(string s)
    {
        foreach (char c in s)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>Code points; a lone surrogate is its own code point, as in a Python str.</summary>
    public static int[] CodePoints(string s)
    {
        var list = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(char.ConvertToUtf32(c, s[i + 1]));
                i++;
            }
            else list.Add(c);
        }
        return list.ToArray();
    }

    public static string FromCodePoints(IEnumerable<int> cps)
    {
        var sb = new StringBuilder();
        foreach (int c in cps) AppendCodePoint(sb, c);
        return sb.ToString();
    }

    public static void AppendCodePoint(StringBuilder sb, int c)
    {
        if (c < 0x10000) sb.Append((char)c);
        else sb.Append(char.ConvertFromUtf32(c));
    }

    public static string CodePointString(int c) => c < 0x10000 ? ((char)c).ToString() : char.ConvertFromUtf32(c);

    public static int Length(string s) => HasSurrogates(s) ? CodePoints(s).Length : s.Length;

    /// <summary>Code-point index of UTF-16 offset <paramref name="utf16Index"/>.</summary>
    public static int CodePointIndex(string s, int utf16Index)
    {
        if (!HasSurrogates(s)) return utf16Index;
        int cp = 0;
        for (int i = 0; i < utf16Index; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            cp++;
        }
        return cp;
    }

    /// <summary>UTF-16 offset of code-point index <paramref name="cpIndex"/> (clamped to the string).</summary>
    public static int Utf16Index(string s, int cpIndex)
    {
        if (!HasSurrogates(s)) return Math.Clamp(cpIndex, 0, s.Length);
        int i = 0, cp = 0;
        while (i < s.Length && cp < cpIndex)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            i++;
            cp++;
        }
        return i;
    }

    public static IEnumerable<object?> Iterate(string s)
    {
        if (!HasSurrogates(s))
        {
            foreach (char c in s) yield return c.ToString();
            yield break;
        }
        foreach (int c in CodePoints(s)) yield return CodePointString(c);
    }

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        int[] cps = CodePoints(s);
        HashSet<int>? set = chars == null ? null : new HashSet<int>(CodePoints(chars));
        bool Strippable(int c) => set == null ? IsSpace(c) : set.Contains(c);
        int start = 0, end = cps.Length;
        if (left) while (start < end && Strippable(cps[start])) start++;
        if (right) while (end > start && Strippable(cps[end - 1])) end--;
        if (start == 0 && end == cps.Length) return s;
        return FromCodePoints(cps[start..end]);
    }

    public static string RStripWhitespace(string s) => Strip(s, null, left: false, right: true);

    public static bool IsAllSpace(string s, int from)
    {
        if (from >= s.Length) return false;
        for (int i = from; i < s.Length; i++)
            if (!IsSpace(s[i])) return false;
        return true;
    }

    /// <summary><c>str.split(sep=None, maxsplit=-1)</c>.</summary>
    public static List<object?> Split(string s, string? sep, long maxsplit)
    {
        var result = new List<object?>();
        if (sep == null)
        {
            int[] cps = CodePoints(s);
            int i = 0, n = cps.Length, splits = 0;
            while (true)
            {
                while (i < n && IsSpace(cps[i])) i++;
                if (i >= n) break;
                if (maxsplit >= 0 && splits >= maxsplit)
                {
                    result.Add(FromCodePoints(cps[i..]));
                    break;
                }
                int j = i;
                while (j < n && !IsSpace(cps[j])) j++;
                result.Add(FromCodePoints(cps[i..j]));
                splits++;
                i = j;
            }
            return result;
        }
        if (sep.Length == 0) throw PyException.Value("empty separator");
        int pos = 0, count = 0;
        while (maxsplit < 0 || count < maxsplit)
        {
            int k = s.IndexOf(sep, pos, StringComparison.Ordinal);
            if (k < 0) break;
            result.Add(s[pos..k]);
            pos = k + sep.Length;
            count++;
        }
        result.Add(s[pos..]);
        return result;
    }

    /// <summary><c>str.rsplit(sep=None, maxsplit=-1)</c>.</summary>
    public static List<object?> RSplit(string s, string? sep, long maxsplit)
    {
        if (maxsplit < 0) return Split(s, sep, maxsplit);
        var result = new List<object?>();
        if (sep == null)
        {
            int[] cps = CodePoints(s);
            int j = cps.Length, splits = 0;
            while (true)
            {
                while (j > 0 && IsSpace(cps[j - 1])) j--;
                if (j <= 0) break;
                if (splits >= maxsplit)
                {
                    result.Add(FromCodePoints(cps[..j]));
                    break;
                }
                int i = j;
                while (i > 0 && !IsSpace(cps[i - 1])) i--;
                result.Add(FromCodePoints(cps[i..j]));
                splits++;
                j = i;
            }
            result.Reverse();
            return result;
        }
        if (sep.Length == 0) throw PyException.Value("empty separator");
        int end = s.Length, count = 0;
        while (count < maxsplit)
        {
            int k = end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - 1, StringComparison.Ordinal);
            if (k < 0 || k + sep.Length > end) break;
            result.Add(s[(k + sep.Length)..end]);
            end = k;
            count++;
        }
        result.Add(s[..end]);
        result.Reverse();
        return result;
    }

    /// <summary><c>str.splitlines(keepends)</c>.</summary>
    public static List<object?> SplitLines(string s, bool keepEnds)
    {
        var result = new List<object?>();
        int i = 0, start = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (IsLineBreak(c))
            {
                int eol = i + 1;
                if (c == '\r' && eol < s.Length && s[eol] == '\n') eol++;
                result.Add(keepEnds ? s[start..eol] : s[start..i]);
                start = i = eol;
            }
            else i++;
        }
        if (start < s.Length) result.Add(s[start..]);
        return result;
    }

    /// <summary><c>str.replace(old, new, count)</c>, including Python's rule for an empty <paramref name="old"/>.</summary>
    public static string Replace(string s, string old, string @new, long count)
    {
        if (count == 0) return s;
        if (old.Length == 0)
        {
            var sb = new StringBuilder();
            long done = 0;
            var pieces = Iterate(s).Cast<string>().ToList();
            for (int i = 0; i <= pieces.Count; i++)
            {
                if (count < 0 || done < count)
                {
                    sb.Append(@new);
                    done++;
                }
                if (i < pieces.Count) sb.Append(pieces[i]);
            }
            return sb.ToString();
        }
        if (count < 0) return s.Replace(old, @new, StringComparison.Ordinal);
        var b = new StringBuilder();
        int pos = 0;
        long n = 0;
        while (n < count)
        {
            int k = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (k < 0) break;
            b.Append(s, pos, k - pos).Append(@new);
            pos = k + old.Length;
            n++;
        }
        b.Append(s, pos, s.Length - pos);
        return b.ToString();
    }

    public static string Upper(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var r in s.EnumerateRunes())
        {
            if (r.Value == 0xDF) sb.Append("SS"); // ß: Python uses the full (special-casing) mapping
            else sb.Append(Rune.ToUpperInvariant(r).ToString());
        }
        return sb.ToString();
    }

    public static string Lower(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var r in s.EnumerateRunes())
        {
            if (r.Value == 0x130) sb.Append("i\u0307"); // İ: Python's full lowercase mapping
            else sb.Append(Rune.ToLowerInvariant(r).ToString());
        }
        return sb.ToString();
    }

    public static bool IsCased(int c)
    {
        var cat = CharUnicodeInfo.GetUnicodeCategory(c);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;
    }

    /// <summary><c>str.title()</c>: a cased character after a cased character is lowered, else uppercased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (var r in s.EnumerateRunes())
        {
            string str = r.ToString();
            if (previousCased) sb.Append(Lower(str));
            else sb.Append(Upper(str));
            previousCased = IsCased(r.Value);
        }
        return sb.ToString();
    }

    /// <summary><c>str.capitalize()</c>: first character upper, the rest lower.</summary>
    public static string Capitalize(string s)
    {
        if (s.Length == 0) return s;
        var r = Rune.GetRuneAt(s, 0);
        return Upper(r.ToString()) + Lower(s[r.Utf16SequenceLength..]);
    }

    public static string SwapCase(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var r in s.EnumerateRunes())
        {
            if (Rune.IsUpper(r)) sb.Append(Lower(r.ToString()));
            else if (Rune.IsLower(r)) sb.Append(Upper(r.ToString()));
            else sb.Append(r.ToString());
        }
        return sb.ToString();
    }

    public static bool IsLowerStr(string s)
    {
        bool cased = false;
        foreach (var r in s.EnumerateRunes())
        {
            var cat = Rune.GetUnicodeCategory(r);
            if (cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter) return false;
            if (cat == UnicodeCategory.LowercaseLetter) cased = true;
        }
        return cased;
    }

    public static bool IsUpperStr(string s)
    {
        bool cased = false;
        foreach (var r in s.EnumerateRunes())
        {
            var cat = Rune.GetUnicodeCategory(r);
            if (cat is UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter) return false;
            if (cat == UnicodeCategory.UppercaseLetter) cased = true;
        }
        return cased;
    }

    /// <summary>Code-point-wise ordering, as Python compares str.</summary>
    public static int CompareCodePoints(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x == y) continue;
            // Surrogates (code points above U+FFFF) sort after every BMP character.
            bool sx = char.IsSurrogate(x), sy = char.IsSurrogate(y);
            if (sx != sy) return sx ? 1 : -1;
            return x.CompareTo(y);
        }
        return a.Length.CompareTo(b.Length);
    }

    /// <summary>Python's <c>str.isprintable()</c> for one code point (used by repr).</summary>
    public static bool IsPrintable(int c)
    {
        if (c == ' ') return true;
        if (c >= 0xD800 && c <= 0xDFFF) return false;
        var cat = CharUnicodeInfo.GetUnicodeCategory(c);
        return cat switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.SpaceSeparator => false,
            _ => true,
        };
    }

    /// <summary>Python <c>repr(str)</c>.</summary>
    public static string Repr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2);
        sb.Append(quote);
        foreach (int c in CodePoints(s))
        {
            if (c == quote || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\t') sb.Append("\\t");
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c < ' ' || c == 0x7F) sb.Append("\\x").Append(c.ToString("x2"));
            else if (c < 0x7F) sb.Append((char)c);
            else if (IsPrintable(c)) AppendCodePoint(sb, c);
            else if (c <= 0xFF) sb.Append("\\x").Append(c.ToString("x2"));
            else if (c <= 0xFFFF) sb.Append("\\u").Append(c.ToString("x4"));
            else sb.Append("\\U").Append(c.ToString("x8"));
        }
        sb.Append(quote);
        return sb.ToString();
    }

    /// <summary>Python <c>ascii()</c> of a string.</summary>
    public static string Ascii(string s)
    {
        string r = Repr(s);
        var sb = new StringBuilder(r.Length);
        foreach (int c in CodePoints(r))
        {
            if (c < 0x80) sb.Append((char)c);
            else if (c <= 0xFF) sb.Append("\\x").Append(c.ToString("x2"));
            else if (c <= 0xFFFF) sb.Append("\\u").Append(c.ToString("x4"));
            else sb.Append("\\U").Append(c.ToString("x8"));
        }
        return sb.ToString();
    }

    /// <summary><c>str.find</c>/<c>rfind</c> over a code-point range; returns a code-point index or -1.</summary>
    public static int Find(string s, string sub, long? start, long? end, bool reverse)
    {
        int n = Length(s);
        var (lo, hi) = ClampRange(n, start, end);
        if (lo > n || hi - lo < Length(sub)) return -1;
        string window = SliceCodePoints(s, lo, hi);
        int k = reverse ? window.LastIndexOf(sub, StringComparison.Ordinal) : window.IndexOf(sub, StringComparison.Ordinal);
        if (reverse && sub.Length == 0) k = window.Length;
        return k < 0 ? -1 : lo + CodePointIndex(window, k);
    }

    public static long Count(string s, string sub, long? start, long? end)
    {
        int n = Length(s);
        var (lo, hi) = ClampRange(n, start, end);
        if (lo > n || lo > hi) return 0;
        if (sub.Length == 0) return hi - lo + 1;
        string window = SliceCodePoints(s, lo, hi);
        long count = 0;
        int pos = 0;
        while (true)
        {
            int k = window.IndexOf(sub, pos, StringComparison.Ordinal);
            if (k < 0) break;
            count++;
            pos = k + sub.Length;
        }
        return count;
    }

    /// <summary>Code points [<paramref name="lo"/>, <paramref name="hi"/>) of <paramref name="s"/>.</summary>
    public static string SliceCodePoints(string s, int lo, int hi)
    {
        if (hi <= lo) return "";
        int u0 = Utf16Index(s, lo), u1 = Utf16Index(s, hi);
        return s[u0..u1];
    }

    /// <summary>Python's slice-style clamping of optional start/end against length <paramref name="n"/>.</summary>
    public static (int Lo, int Hi) ClampRange(int n, long? start, long? end)
    {
        long lo = start ?? 0, hi = end ?? n;
        if (lo < 0) lo = Math.Max(0, lo + n);
        if (hi < 0) hi = Math.Max(0, hi + n);
        lo = Math.Min(lo, n + 1);
        hi = Math.Min(hi, n);
        return ((int)lo, (int)hi);
    }

    public static string Pad(string s, long width, char fill, int align)
    {
        int len = Length(s);
        if (width <= len) return s;
        int total = (int)width - len;
        int left = align switch { < 0 => 0, > 0 => total, _ => total / 2 + (total & (int)width & 1) };
        return new string(fill, left) + s + new string(fill, total - left);
    }
}
