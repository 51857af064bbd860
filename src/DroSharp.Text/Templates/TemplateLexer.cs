using System.Globalization;
using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>
/// Jinja2's lexer with transformers' settings: <c>trim_blocks</c> (the first newline after a block or comment
/// tag is dropped), <c>lstrip_blocks</c> (spaces and tabs from the start of a line to a block or comment tag are
/// dropped, unless the tag starts with <c>{%+</c>), <c>keep_trailing_newline=False</c> (one trailing newline of
/// the source is dropped), <c>-</c> whitespace control on either side; newlines are normalised to <c>\n</c>.
/// Positions are 1-based line and column in that normalised text.
/// </summary>
internal sealed class TemplateLexer
{
    private readonly string _src;
    private readonly List<int> _lineStarts = [0];
    private readonly List<Token> _tokens = new();
    private bool _lineStarting = true;

    private TemplateLexer(string source)
    {
        // Jinja2 splits on \r\n, \r, \n, drops one final empty line (keep_trailing_newline=False) and rejoins with \n.
        var lines = new List<string>();
        int start = 0;
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n' || source[i] == '\r')
            {
                lines.Add(source[start..i]);
                if (source[i] == '\r' && i + 1 < source.Length && source[i + 1] == '\n') i++;
                start = i + 1;
            }
        }
        lines.Add(source[start..]);
        if (lines.Count > 1 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        else if (lines.Count == 1 && lines[0].Length == 0) lines.Clear();
        _src = string.Join("\n", lines);
        for (int i = 0; i < _src.Length; i++)
            if (_src[i] == '\n') _lineStarts.Add(i + 1);
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new TemplateLexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private (int Line, int Column) Position(int offset)
    {
        int lo = 0, hi = _lineStarts.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_lineStarts[mid] <= offset) lo = mid;
            else hi = mid - 1;
        }
        return (lo + 1, offset - _lineStarts[lo] + 1);
    }

    private PyException Error(string message, int offset)
    {
        var (line, col) = Position(offset);
        return new PyException("TemplateSyntaxError", message) { Line = line, Column = col };
    }

    private void Emit(TokenKind kind, string text, object? value, int offset)
    {
        var (line, col) = Position(offset);
        _tokens.Add(new Token(kind, text, value, line, col));
    }

    private bool At(int pos, string s) => string.CompareOrdinal(_src, pos, s, 0, s.Length) == 0;

    private int SkipWhitespace(int pos)
    {
        while (pos < _src.Length && PyString.IsSpace(_src[pos])) pos++;
        return pos;
    }

    private void Run()
    {
        int pos = 0;
        while (pos < _src.Length)
        {
            int tag = FindTag(pos);
            if (tag < 0)
            {
                Emit(TokenKind.Data, _src[pos..], _src[pos..], pos);
                break;
            }
            char kind = _src[tag + 1]; // '{', '%' or '#'
            int after = tag + 2;
            char sign = after < _src.Length && _src[after] is '-' or '+' ? _src[after] : '\0';
            int rawEnd = kind == '%' ? MatchRawBegin(tag) : -1;
            string text = _src[pos..tag];
            text = StripBeforeTag(text, sign, isVariable: kind == '{');
            if (text.Length > 0) Emit(TokenKind.Data, text, text, pos);
            if (rawEnd >= 0)
            {
                _lineStarting = _src[rawEnd - 1] == '\n';
                pos = LexRaw(rawEnd);
                continue;
            }
            _lineStarting = false;
            int bodyStart = after + (sign != '\0' ? 1 : 0);
            pos = kind switch
            {
                '#' => LexComment(bodyStart, tag),
                '%' => LexTag(bodyStart, tag, block: true),
                _ => LexTag(bodyStart, tag, block: false),
            };
        }
        Emit(TokenKind.Eof, "", null, _src.Length);
    }

    private int FindTag(int pos)
    {
        for (int i = _src.IndexOf('{', pos); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
            if (_src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    /// <summary>Jinja2's OptionalLStrip: <c>-</c> strips all whitespace before the tag; otherwise lstrip_blocks strips a whitespace-only line start.</summary>
    private string StripBeforeTag(string text, char sign, bool isVariable)
    {
        if (sign == '-') return PyString.RStripWhitespace(text);
        if (sign != '+' && !isVariable)
        {
            int lpos = text.LastIndexOf('\n') + 1;
            if ((lpos > 0 || _lineStarting) && PyString.IsAllSpace(text, lpos)) return text[..lpos];
        }
        return text;
    }

    /// <summary><c>{%(-|+|)\s*raw\s*(-%}\s*|%})</c> at <paramref name="tag"/>; returns the end offset or -1.</summary>
    private int MatchRawBegin(int tag)
    {
        int p = tag + 2;
        if (p < _src.Length && _src[p] is '-' or '+') p++;
        p = SkipWhitespace(p);
        if (!At(p, "raw")) return -1;
        p = SkipWhitespace(p + 3);
        if (At(p, "-%}")) return SkipWhitespace(p + 3);
        if (At(p, "%}")) return p + 2;
        return -1;
    }

    private int LexRaw(int pos)
    {
        for (int i = _src.IndexOf("{%", pos, StringComparison.Ordinal); i >= 0; i = _src.IndexOf("{%", i + 1, StringComparison.Ordinal))
        {
            int p = i + 2;
            char sign = p < _src.Length && _src[p] is '-' or '+' ? _src[p] : '\0';
            if (sign != '\0') p++;
            p = SkipWhitespace(p);
            if (!At(p, "endraw")) continue;
            p = SkipWhitespace(p + 6);
            int end;
            if (At(p, "+%}")) end = p + 3;
            else if (At(p, "-%}")) end = SkipWhitespace(p + 3);
            else if (At(p, "%}")) end = p + 2 < _src.Length && _src[p + 2] == '\n' ? p + 3 : p + 2;
            else continue;
            string text = StripBeforeTag(_src[pos..i], sign, isVariable: false);
            if (text.Length > 0) Emit(TokenKind.Data, text, text, pos);
            _lineStarting = _src[end - 1] == '\n';
            return end;
        }
        throw Error("Missing end of raw directive", pos);
    }

    private int LexComment(int pos, int tagStart)
    {
        int k = _src.IndexOf("#}", pos, StringComparison.Ordinal);
        if (k < 0) throw Error("Missing end of comment tag", tagStart);
        int end;
        if (k - 1 >= pos && _src[k - 1] == '-') end = SkipWhitespace(k + 2);
        else if (k - 1 >= pos && _src[k - 1] == '+') end = k + 2;
        else end = k + 2 < _src.Length && _src[k + 2] == '\n' ? k + 3 : k + 2;
        _lineStarting = _src[end - 1] == '\n';
        return end;
    }

    private int LexTag(int pos, int tagStart, bool block)
    {
        Emit(block ? TokenKind.BlockBegin : TokenKind.VariableBegin, block ? "{%" : "{{", null, tagStart);
        var balance = new Stack<char>();
        while (true)
        {
            if (pos >= _src.Length) return pos; // the parser reports the missing end tag
            if (balance.Count == 0)
            {
                int end = -1;
                if (block)
                {
                    if (At(pos, "+%}")) end = pos + 3;
                    else if (At(pos, "-%}")) end = SkipWhitespace(pos + 3);
                    else if (At(pos, "%}")) end = pos + 2 < _src.Length && _src[pos + 2] == '\n' ? pos + 3 : pos + 2;
                }
                else
                {
                    if (At(pos, "-}}")) end = SkipWhitespace(pos + 3);
                    else if (At(pos, "}}")) end = pos + 2;
                }
                if (end >= 0)
                {
                    Emit(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, _src[pos..end], null, pos);
                    _lineStarting = _src[end - 1] == '\n';
                    return end;
                }
            }
            char c = _src[pos];
            if (PyString.IsSpace(c))
            {
                pos = SkipWhitespace(pos);
                continue;
            }
            int next;
            if ((next = MatchFloat(pos)) > pos)
            {
                string t = _src[pos..next].Replace("_", "");
                Emit(TokenKind.Float, _src[pos..next], double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture), pos);
            }
            else if ((next = MatchInteger(pos, out long value)) > pos)
                Emit(TokenKind.Integer, _src[pos..next], value, pos);
            else if ((next = MatchName(pos)) > pos)
            {
                string name = _src[pos..next];
                if (!IsIdentifier(name)) throw Error("Invalid character in identifier", pos);
                Emit(TokenKind.Name, name, name, pos);
            }
            else if (c is '\'' or '"')
            {
                next = MatchString(pos);
                if (next < 0) throw Error($"unexpected char {PyString.Repr(c.ToString())} at {pos}", pos);
                Emit(TokenKind.String, _src[pos..next], DecodeString(_src[(pos + 1)..(next - 1)], pos), pos);
            }
            else if ((next = MatchOperator(pos)) > pos)
            {
                string op = _src[pos..next];
                if (op is "{" or "(" or "[") balance.Push(op switch { "{" => '}', "(" => ')', _ => ']' });
                else if (op is "}" or ")" or "]")
                {
                    if (balance.Count == 0) throw Error($"unexpected '{op}'", pos);
                    char expected = balance.Pop();
                    if (expected != op[0]) throw Error($"unexpected '{op}', expected '{expected}'", pos);
                }
                Emit(TokenKind.Operator, op, null, pos);
            }
            else throw Error($"unexpected char {PyString.Repr(c.ToString())} at {pos}", pos);
            pos = next;
        }
    }

    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private int MatchOperator(int pos)
    {
        foreach (var op in Operators)
            if (At(pos, op)) return pos + op.Length;
        return pos;
    }

    private int Digits(int pos)
    {
        // (\d+_)*\d+
        int p = pos;
        if (p >= _src.Length || !char.IsAsciiDigit(_src[p])) return pos;
        while (true)
        {
            while (p < _src.Length && char.IsAsciiDigit(_src[p])) p++;
            if (p + 1 < _src.Length && _src[p] == '_' && char.IsAsciiDigit(_src[p + 1])) p++;
            else return p;
        }
    }

    /// <summary><c>(?&lt;!\.)(\d+_)*\d+((\.(\d+_)*\d+)?e[+\-]?(\d+_)*\d+|\.(\d+_)*\d+)</c>, case-insensitive.</summary>
    private int MatchFloat(int pos)
    {
        if (pos > 0 && _src[pos - 1] == '.') return pos;
        int p = Digits(pos);
        if (p == pos) return pos;
        int afterFraction = p;
        if (p < _src.Length && _src[p] == '.')
        {
            int q = Digits(p + 1);
            if (q > p + 1) afterFraction = q;
        }
        int e = afterFraction;
        if (e < _src.Length && _src[e] is 'e' or 'E')
        {
            int q = e + 1;
            if (q < _src.Length && _src[q] is '+' or '-') q++;
            int r = Digits(q);
            if (r > q) return r;
        }
        return afterFraction > p ? afterFraction : pos;
    }

    /// <summary>Jinja2's integer rule: 0b/0o/0x with optional underscores, decimals without leading zeros, or zeros.</summary>
    private int MatchInteger(int pos, out long value)
    {
        value = 0;
        if (pos >= _src.Length || !char.IsAsciiDigit(_src[pos])) return pos;
        if (_src[pos] == '0' && pos + 1 < _src.Length && _src[pos + 1] is 'b' or 'B' or 'o' or 'O' or 'x' or 'X')
        {
            int radix = _src[pos + 1] switch { 'b' or 'B' => 2, 'o' or 'O' => 8, _ => 16 };
            int p = pos + 2;
            var digits = new StringBuilder();
            while (true)
            {
                int q = p;
                if (q < _src.Length && _src[q] == '_') q++;
                if (q < _src.Length && Uri.IsHexDigit(_src[q]) && Convert.ToInt32(_src[q].ToString(), 16) < radix)
                {
                    digits.Append(_src[q]);
                    p = q + 1;
                }
                else break;
            }
            if (digits.Length > 0)
            {
                value = ParseRadix(digits.ToString(), radix, pos);
                return p;
            }
        }
        if (_src[pos] == '0')
        {
            int p = pos + 1;
            while (p + 1 < _src.Length && (_src[p] == '0' || (_src[p] == '_' && _src[p + 1] == '0'))) p += _src[p] == '_' ? 2 : 1;
            while (p < _src.Length && _src[p] == '0') p++;
            return p;
        }
        int end = Digits(pos);
        string text = _src[pos..end].Replace("_", "");
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
            throw Error("integer literal too large (DroSharp's template ints are 64-bit)", pos);
        return end;
    }

    private long ParseRadix(string digits, int radix, int pos)
    {
        ulong v = 0;
        foreach (char c in digits)
        {
            ulong d = (ulong)Convert.ToInt32(c.ToString(), 16);
            if (v > (ulong.MaxValue - d) / (ulong)radix) throw Error("integer literal too large", pos);
            v = v * (ulong)radix + d;
        }
        if (v > long.MaxValue) throw Error("integer literal too large (DroSharp's template ints are 64-bit)", pos);
        return (long)v;
    }

    private static bool IsWordChar(char c) =>
        c == '_' || char.IsLetterOrDigit(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.LetterNumber
            or UnicodeCategory.EnclosingMark;

    private int MatchName(int pos)
    {
        int p = pos;
        while (p < _src.Length && IsWordChar(_src[p])) p++;
        return p;
    }

    private static bool IsIdentifier(string s) =>
        s.Length > 0 && (s[0] == '_' || char.IsLetter(s[0]) || CharUnicodeInfo.GetUnicodeCategory(s[0]) == UnicodeCategory.LetterNumber);

    /// <summary><c>'([^'\\]*(?:\\.[^'\\]*)*)'</c> (or with double quotes); returns the end offset or -1.</summary>
    private int MatchString(int pos)
    {
        char q = _src[pos];
        for (int p = pos + 1; p < _src.Length; p++)
        {
            if (_src[p] == '\\') p++;
            else if (_src[p] == q) return p + 1;
        }
        return -1;
    }

    /// <summary>
    /// Jinja2 decodes string literals with <c>s.encode("ascii", "backslashreplace").decode("unicode-escape")</c>:
    /// Python escapes are processed, unknown escapes kept, and a backslash before a non-ASCII character escapes
    /// the backslash of that character's <c>\x</c>/<c>\u</c> form.
    /// </summary>
    private string DecodeString(string body, int pos)
    {
        var ascii = new StringBuilder(body.Length);
        foreach (int c in PyString.CodePoints(body))
        {
            if (c < 0x80) ascii.Append((char)c);
            else if (c <= 0xFF) ascii.Append("\\x").Append(c.ToString("x2"));
            else if (c <= 0xFFFF) ascii.Append("\\u").Append(c.ToString("x4"));
            else ascii.Append("\\U").Append(c.ToString("x8"));
        }
        string s = ascii.ToString();
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (i + 1 >= s.Length) throw Error("\\ at end of string", pos);
            char e = s[++i];
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case >= '0' and <= '7':
                {
                    int v = e - '0', n = 1;
                    while (n < 3 && i + 1 < s.Length && s[i + 1] is >= '0' and <= '7')
                    {
                        v = v * 8 + (s[++i] - '0');
                        n++;
                    }
                    PyString.AppendCodePoint(sb, v);
                    break;
                }
                case 'x' or 'u' or 'U':
                {
                    int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    string hex = i + 1 + n <= s.Length ? s.Substring(i + 1, n) : "";
                    if (hex.Length != n || !hex.All(Uri.IsHexDigit)) throw Error($"truncated \\{e}{new string('X', n)} escape", pos);
                    int v = int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    if (v > 0x10FFFF) throw Error("illegal Unicode character", pos);
                    PyString.AppendCodePoint(sb, v);
                    i += n;
                    break;
                }
                case 'N': throw Error("\\N{...} escapes are not supported in DroSharp's template engine", pos);
                default: sb.Append('\\').Append(e); break;
            }
        }
        return sb.ToString();
    }
}
