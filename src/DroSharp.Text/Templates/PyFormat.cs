using System.Globalization;
using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>Python's printf-style <c>str % args</c>, <c>str.format</c> and <c>format(value, spec)</c>.</summary>
internal static class PyFormat
{
    // ---------------- printf-style ----------------

    /// <summary><c>fmt % args</c>: a tuple supplies positional values, a dict named <c>%(key)s</c> values, anything else one value.</summary>
    public static string Percent(string fmt, object? args)
    {
        List<object?> positional;
        PyDict? mapping = args as PyDict;
        bool isTuple = args is PyList { IsTuple: true };
        positional = isTuple ? ((PyList)args!).Items : new List<object?> { args };
        int next = 0;
        var sb = new StringBuilder();
        int i = 0;
        object? NextArg()
        {
            if (next >= positional.Count) throw PyException.Type("not enough arguments for format string");
            return positional[next++];
        }
        bool usedMapping = false;
        while (i < fmt.Length)
        {
            char c = fmt[i];
            if (c != '%')
            {
                sb.Append(c);
                i++;
                continue;
            }
            i++;
            if (i >= fmt.Length) throw PyException.Value("incomplete format");
            object? value = null;
            bool haveValue = false;
            if (fmt[i] == '(')
            {
                if (mapping == null)
                {
                    if (args is PyList { IsTuple: false } or PyRange) throw PyException.Type($"{Py.TypeName(args)} indices must be integers or slices, not str");
                    throw PyException.Type("format requires a mapping");
                }
                int depth = 1, k = i + 1;
                while (k < fmt.Length && depth > 0)
                {
                    if (fmt[k] == '(') depth++;
                    else if (fmt[k] == ')') depth--;
                    k++;
                }
                if (depth > 0) throw PyException.Value("incomplete format key");
                string key = fmt[(i + 1)..(k - 1)];
                if (!mapping.TryGet(key, out value)) throw new PyException("KeyError", PyString.Repr(key));
                haveValue = true;
                usedMapping = true;
                i = k;
            }
            bool left = false, plus = false, space = false, alt = false, zero = false;
            for (; i < fmt.Length; i++)
            {
                char f = fmt[i];
                if (f == '-') left = true;
                else if (f == '+') plus = true;
                else if (f == ' ') space = true;
                else if (f == '#') alt = true;
                else if (f == '0') zero = true;
                else break;
            }
            int width = -1, precision = -1;
            if (i < fmt.Length && fmt[i] == '*')
            {
                var w = NextArg();
                if (!Py.IsInt(w)) throw PyException.Type("* wants int");
                width = (int)Py.AsLong(w);
                if (width < 0)
                {
                    left = true;
                    width = -width;
                }
                i++;
            }
            else width = ReadInt(fmt, ref i);
            if (i < fmt.Length && fmt[i] == '.')
            {
                i++;
                if (i < fmt.Length && fmt[i] == '*')
                {
                    var p = NextArg();
                    if (!Py.IsInt(p)) throw PyException.Type("* wants int");
                    precision = Math.Max(0, (int)Py.AsLong(p));
                    i++;
                }
                else precision = Math.Max(0, ReadInt(fmt, ref i));
            }
            while (i < fmt.Length && fmt[i] is 'h' or 'l' or 'L') i++;
            if (i >= fmt.Length) throw PyException.Value("incomplete format");
            char conv = fmt[i++];
            if (conv == '%')
            {
                sb.Append('%');
                continue;
            }
            if (!haveValue) value = NextArg();
            string body;
            string sign = "";
            bool numeric = false;
            switch (conv)
            {
                case 's': body = Py.Str(value); if (precision >= 0) body = Truncate(body, precision); break;
                case 'r': body = Py.Repr(value); if (precision >= 0) body = Truncate(body, precision); break;
                case 'a': body = value is string sa ? PyString.Ascii(sa) : Py.Repr(value); if (precision >= 0) body = Truncate(body, precision); break;
                case 'c':
                    if (value is string sc && PyString.Length(sc) == 1) body = sc;
                    else if (Py.IsInt(value)) body = PyString.CodePointString((int)Py.AsLong(value));
                    else throw PyException.Type("%c requires int or char");
                    break;
                case 'd' or 'i' or 'u':
                {
                    numeric = true;
                    long n = value switch
                    {
                        bool or long => Py.AsLong(value),
                        double d when !double.IsNaN(d) && !double.IsInfinity(d) => (long)Math.Truncate(d),
                        double => throw PyException.Value("cannot convert float NaN or infinity to integer"),
                        Undefined u => throw u.Error(),
                        _ => throw PyException.Type($"%{conv} format: a real number is required, not {Py.TypeName(value)}"),
                    };
                    body = n < 0 ? (-(decimal)n).ToString(CultureInfo.InvariantCulture) : n.ToString(CultureInfo.InvariantCulture);
                    if (precision >= 0) body = body.PadLeft(precision, '0');
                    sign = n < 0 ? "-" : plus ? "+" : space ? " " : "";
                    break;
                }
                case 'x' or 'X' or 'o':
                {
                    numeric = true;
                    if (!Py.IsInt(value))
                    {
                        if (value is Undefined u) throw u.Error();
                        throw PyException.Type($"%{conv} format: an integer is required, not {Py.TypeName(value)}");
                    }
                    long n = Py.AsLong(value);
                    ulong mag = n < 0 ? (ulong)(-(n + 1)) + 1 : (ulong)n;
                    body = conv == 'o' ? Convert.ToString((long)mag, 8) : mag.ToString(conv == 'x' ? "x" : "X", CultureInfo.InvariantCulture);
                    if (precision >= 0) body = body.PadLeft(precision, '0');
                    if (alt) body = (conv == 'o' ? "0o" : conv == 'x' ? "0x" : "0X") + body;
                    sign = n < 0 ? "-" : plus ? "+" : space ? " " : "";
                    break;
                }
                case 'e' or 'E' or 'f' or 'F' or 'g' or 'G':
                {
                    numeric = true;
                    double d = value switch
                    {
                        bool or long or double => Py.AsDouble(value),
                        Undefined u => throw u.Error(),
                        _ => throw PyException.Type($"must be real number, not {Py.TypeName(value)}"),
                    };
                    int p = precision < 0 ? 6 : precision;
                    body = FloatBody(Math.Abs(d), conv, p, alt);
                    sign = double.IsNegative(d) && !double.IsNaN(d) ? "-" : plus ? "+" : space ? " " : "";
                    if (double.IsNaN(d) || double.IsInfinity(d)) zero = false;
                    break;
                }
                default:
                    throw PyException.Value($"unsupported format character '{conv}' (0x{(int)conv:x}) at index {i - 1}");
            }
            string text;
            if (numeric && zero && !left && width > 0)
            {
                int prefixLen = (body.StartsWith("0x") || body.StartsWith("0X") || body.StartsWith("0o")) && alt ? 2 : 0;
                string prefix = sign + body[..prefixLen];
                string digits = body[prefixLen..];
                text = prefix + digits.PadLeft(Math.Max(0, width - prefix.Length), '0');
            }
            else
            {
                text = sign + body;
                int len = PyString.Length(text);
                if (width > len) text = left ? text + new string(' ', width - len) : new string(' ', width - len) + text;
            }
            sb.Append(text);
        }
        // CPython skips this check when args supports item access (dict, list, range, …) but is not a tuple or str.
        bool mappingLike = args is PyDict or PyList { IsTuple: false } or PyRange or Undefined;
        if (!usedMapping && !mappingLike && next < positional.Count)
            throw PyException.Type("not all arguments converted during string formatting");
        return sb.ToString();
    }

    private static string Truncate(string s, int n) => PyString.Length(s) <= n ? s : PyString.SliceCodePoints(s, 0, n);

    private static int ReadInt(string s, ref int i)
    {
        int start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        return i > start ? Count(s[start..i]) : -1;
    }

    /// <summary>A width, precision or field number: digits that overflow are Python's "too big" error, not an OverflowException.</summary>
    internal static int Count(string digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new PyException("OverflowError", "width or index too big");

    private static string FloatBody(double a, char conv, int precision, bool alt)
    {
        bool upper = char.IsUpper(conv);
        if (double.IsNaN(a)) return upper ? "NAN" : "nan";
        if (double.IsInfinity(a)) return upper ? "INF" : "inf";
        return char.ToLowerInvariant(conv) switch
        {
            'e' => PyFloat.Exponent(a, precision, upper, alt),
            'f' => PyFloat.Fixed(a, precision, alt),
            _ => PyFloat.General(a, precision, upper, alt),
        };
    }

    // ---------------- str.format ----------------

    /// <summary><c>fmt.format(*args, **kwargs)</c> (Jinja2's sandboxed formatter: fields are looked up with the sandbox rules).</summary>
    public static string Format(Interpreter it, string fmt, CallArgs args, int depth = 2)
    {
        var sb = new StringBuilder();
        int auto = 0;
        int i = 0;
        while (i < fmt.Length)
        {
            char c = fmt[i];
            if (c == '}')
            {
                if (i + 1 < fmt.Length && fmt[i + 1] == '}')
                {
                    sb.Append('}');
                    i += 2;
                    continue;
                }
                throw PyException.Value("Single '}' encountered in format string");
            }
            if (c != '{')
            {
                sb.Append(c);
                i++;
                continue;
            }
            if (i + 1 < fmt.Length && fmt[i + 1] == '{')
            {
                sb.Append('{');
                i += 2;
                continue;
            }
            // parse a field up to the matching '}'
            int level = 1, k = i + 1;
            while (k < fmt.Length && level > 0)
            {
                if (fmt[k] == '{') level++;
                else if (fmt[k] == '}') level--;
                if (level > 0) k++;
            }
            if (k >= fmt.Length) throw PyException.Value("expected '}' before end of string");
            string field = fmt[(i + 1)..k];
            i = k + 1;
            string? conversion = null, spec = "";
            int colon = -1, bang = -1, bracket = 0;
            for (int j = 0; j < field.Length; j++)
            {
                if (field[j] == '[') bracket++;
                else if (field[j] == ']') bracket--;
                else if (bracket == 0 && field[j] == '!' && bang < 0 && colon < 0) bang = j;
                else if (bracket == 0 && field[j] == ':' && colon < 0) { colon = j; break; }
            }
            string name = field;
            if (colon >= 0)
            {
                spec = field[(colon + 1)..];
                name = field[..colon];
            }
            if (bang >= 0)
            {
                conversion = name[(bang + 1)..];
                name = name[..bang];
                if (conversion.Length != 1) throw PyException.Value("expected ':' after conversion specifier");
            }
            if (depth <= 0) throw PyException.Value("Max string recursion exceeded");
            if (spec.Contains('{')) spec = Format(it, spec, args, depth - 1);
            // first part of the field name
            int end = 0;
            while (end < name.Length && name[end] != '.' && name[end] != '[') end++;
            string first = name[..end];
            object? value;
            if (first.Length == 0)
            {
                if (auto < 0) throw PyException.Value("cannot switch from manual field specification to automatic field numbering");
                value = PositionalArg(args, auto++);
            }
            else if (first.All(char.IsAsciiDigit))
            {
                if (auto > 0) throw PyException.Value("cannot switch from automatic field numbering to manual field specification");
                auto = -1;
                value = PositionalArg(args, Count(first));
            }
            else
            {
                var kw = args.Keywords.FindIndex(p => p.Key == first);
                if (kw < 0) throw new PyException("KeyError", PyString.Repr(first));
                value = args.Keywords[kw].Value;
            }
            int pos = end;
            while (pos < name.Length)
            {
                if (name[pos] == '.')
                {
                    int s = ++pos;
                    while (pos < name.Length && name[pos] != '.' && name[pos] != '[') pos++;
                    value = it.GetAttr(value, name[s..pos]);
                }
                else
                {
                    int close = name.IndexOf(']', pos);
                    if (close < 0) throw PyException.Value("Missing ']' in format string");
                    string key = name[(pos + 1)..close];
                    pos = close + 1;
                    value = it.GetItem(value, key.Length > 0 && key.All(char.IsAsciiDigit) && long.TryParse(key, CultureInfo.InvariantCulture, out long index) ? index : key);
                }
            }
            if (conversion != null)
            {
                value = conversion switch
                {
                    "s" => Py.Str(value),
                    "r" => Py.Repr(value),
                    "a" => value is string s2 ? PyString.Ascii(s2) : Py.Repr(value),
                    _ => throw PyException.Value($"Unknown conversion specifier {conversion}"),
                };
            }
            sb.Append(FormatValue(value, spec));
        }
        return sb.ToString();
    }

    private static object? PositionalArg(CallArgs args, int index)
    {
        if (index >= args.Positional.Count) throw new PyException("IndexError", $"Replacement index {index} out of range for positional args tuple");
        return args.Positional[index];
    }

    /// <summary>Python <c>format(value, spec)</c>.</summary>
    public static string FormatValue(object? value, string spec)
    {
        if (value is Undefined u)
        {
            if (spec.Length == 0) return "";
            throw u.Error();
        }
        if (value is not (string or bool or long or double))
        {
            if (spec.Length == 0) return Py.Str(value);
            throw PyException.Type($"unsupported format string passed to {Py.TypeName(value)}.__format__");
        }
        var s = Spec.Parse(spec);
        if (value is string str)
        {
            if (s.Type is not (null or 's')) throw PyException.Value($"Unknown format code '{s.Type}' for object of type 'str'");
            if (s.Sign != null) throw PyException.Value("Sign not allowed in string format specifier");
            if (s.Align == '=') throw PyException.Value("'=' alignment not allowed in string format specifier");
            if (s.Precision >= 0) str = Truncate(str, s.Precision);
            return s.Pad(str, "", -1);
        }
        if (value is bool b && s.Type == null && spec.Length > 0 && s.Precision < 0 && s.Sign == null && !s.Alternate && !s.Zero && s.Grouping == null)
            return s.Pad(b ? "True" : "False", "", -1);
        if (value is bool b0 && spec.Length == 0) return b0 ? "True" : "False";
        char type = s.Type ?? (value is double ? '\0' : 'd');
        if (Py.IsInt(value) && type is 'd' or 'n' or 'b' or 'o' or 'x' or 'X' or 'c')
        {
            long n = Py.AsLong(value);
            if (s.Precision >= 0) throw PyException.Value("Precision not allowed in integer format specifier");
            if (type == 'c') return s.Pad(PyString.CodePointString((int)n), "", -1);
            ulong mag = n < 0 ? (ulong)(-(n + 1)) + 1 : (ulong)n;
            string digits = type switch
            {
                'b' => Convert.ToString((long)mag, 2),
                'o' => Convert.ToString((long)mag, 8),
                'x' => mag.ToString("x", CultureInfo.InvariantCulture),
                'X' => mag.ToString("X", CultureInfo.InvariantCulture),
                _ => mag.ToString(CultureInfo.InvariantCulture),
            };
            if (s.Grouping != null) digits = Group(digits, s.Grouping.Value, type is 'd' or 'n' ? 3 : 4);
            string prefix = s.Alternate ? type switch { 'b' => "0b", 'o' => "0o", 'x' => "0x", 'X' => "0X", _ => "" } : "";
            string sign = n < 0 ? "-" : s.Sign == '+' ? "+" : s.Sign == ' ' ? " " : "";
            return s.Pad(digits, sign + prefix, 1);
        }
        if (Py.IsNumber(value))
        {
            double d = Py.AsDouble(value);
            string sign = double.IsNegative(d) && !double.IsNaN(d) ? "-" : s.Sign == '+' ? "+" : s.Sign == ' ' ? " " : "";
            double a = Math.Abs(d);
            string body;
            if (double.IsNaN(a) || double.IsInfinity(a))
            {
                body = double.IsNaN(a) ? "nan" : "inf";
                if (type is 'E' or 'F' or 'G') body = body.ToUpperInvariant();
                if (type == '%') body += "%";
            }
            else
            {
                switch (type)
                {
                    case 'e' or 'E': body = PyFloat.Exponent(a, s.Precision < 0 ? 6 : s.Precision, type == 'E', s.Alternate); break;
                    case 'f' or 'F': body = PyFloat.Fixed(a, s.Precision < 0 ? 6 : s.Precision, s.Alternate); break;
                    case 'g' or 'G' or 'n': body = PyFloat.General(a, s.Precision < 0 ? 6 : s.Precision, type == 'G', s.Alternate); break;
                    case '%': body = PyFloat.Fixed(a * 100, s.Precision < 0 ? 6 : s.Precision, s.Alternate) + "%"; break;
                    case '\0':
                        if (s.Precision < 0) body = PyFloat.Repr(a);
                        else
                        {
                            body = PyFloat.General(a, s.Precision, false, s.Alternate);
                            if (!body.Contains('.') && !body.Contains('e') && !body.Contains("inf")) body += ".0";
                        }
                        break;
                    default: throw PyException.Value($"Unknown format code '{type}' for object of type '{Py.TypeName(value)}'");
                }
                if (s.Grouping != null)
                {
                    int dot = body.IndexOfAny(['.', 'e', 'E', '%']);
                    string intPart = dot < 0 ? body : body[..dot];
                    body = Group(intPart, s.Grouping.Value, 3) + (dot < 0 ? "" : body[dot..]);
                }
            }
            return s.Pad(body, sign, 1);
        }
        throw PyException.Value($"Unknown format code '{type}' for object of type '{Py.TypeName(value)}'");
    }

    private static string Group(string digits, char sep, int every)
    {
        var sb = new StringBuilder();
        int first = digits.Length % every;
        if (first == 0) first = every;
        sb.Append(digits, 0, Math.Min(first, digits.Length));
        for (int i = first; i < digits.Length; i += every) sb.Append(sep).Append(digits, i, every);
        return sb.ToString();
    }

    private sealed class Spec
    {
        public char Fill = ' ';
        public char? Align;
        public char? Sign;
        public bool Alternate;
        public bool Zero;
        public int Width = -1;
        public char? Grouping;
        public int Precision = -1;
        public char? Type;

        public static Spec Parse(string spec)
        {
            var s = new Spec();
            int i = 0;
            static bool IsAlign(char c) => c is '<' or '>' or '^' or '=';
            if (spec.Length >= 2 && IsAlign(spec[1]))
            {
                s.Fill = spec[0];
                s.Align = spec[1];
                i = 2;
            }
            else if (spec.Length >= 1 && IsAlign(spec[0]))
            {
                s.Align = spec[0];
                i = 1;
            }
            if (i < spec.Length && spec[i] is '+' or '-' or ' ') s.Sign = spec[i++];
            if (i < spec.Length && spec[i] == '#')
            {
                s.Alternate = true;
                i++;
            }
            if (i < spec.Length && spec[i] == '0')
            {
                s.Zero = true;
                i++;
            }
            s.Width = ReadInt(spec, ref i);
            if (i < spec.Length && spec[i] is ',' or '_') s.Grouping = spec[i++];
            if (i < spec.Length && spec[i] == '.')
            {
                i++;
                s.Precision = ReadInt(spec, ref i);
                if (s.Precision < 0) throw PyException.Value("Format specifier missing precision");
            }
            if (i < spec.Length) s.Type = spec[i++];
            if (i < spec.Length) throw PyException.Value("Invalid format specifier");
            if (s.Sign == '-') s.Sign = null;
            return s;
        }

        /// <summary>Pads <paramref name="body"/> (after <paramref name="prefix"/>, e.g. the sign) to the width; default alignment left (-1) for strings, right (1) for numbers.</summary>
        public string Pad(string body, string prefix, int defaultAlign)
        {
            char fill = Fill;
            char? align = Align;
            if (Zero && align == null)
            {
                fill = '0';
                align = '=';
            }
            int len = PyString.Length(prefix) + PyString.Length(body);
            if (Width <= len) return prefix + body;
            int pad = Width - len;
            string f(int n) => new string(fill, n);
            return (align ?? (defaultAlign < 0 ? '<' : '>')) switch
            {
                '<' => prefix + body + f(pad),
                '>' => f(pad) + prefix + body,
                '^' => f(pad / 2) + prefix + body + f(pad - pad / 2),
                _ => prefix + f(pad) + body,
            };
        }
    }
}
