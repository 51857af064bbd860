using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>
/// The Python attributes a template can reach on built-in values: the methods of <c>str</c>, the read-only
/// methods of <c>dict</c>, <c>list</c> and <c>tuple</c>, <c>namespace</c> attributes and <c>loop.*</c>. Methods
/// that mutate a list or dict exist but are blocked, as in transformers' ImmutableSandboxedEnvironment
/// (using them raises SecurityError "access to attribute 'append' of 'list' object is unsafe.").
/// </summary>
internal static class PyAttributes
{
    private static readonly HashSet<string> DictMutators = ["clear", "pop", "popitem", "setdefault", "update"];
    private static readonly HashSet<string> ListMutators = ["append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove"];

    public static bool TryGet(Interpreter it, object? obj, string name, out object? value)
    {
        value = null;
        if (name.StartsWith('_')) return false;
        _receiver = obj;
        switch (obj)
        {
            case string s:
                value = StringMethod(s, name);
                return value != null;
            case PyDict d:
                if (DictMutators.Contains(name))
                {
                    value = Undefined.Unsafe(obj, name);
                    return true;
                }
                value = DictMethod(d, name);
                return value != null;
            case PyList l:
                if (!l.IsTuple && ListMutators.Contains(name))
                {
                    value = Undefined.Unsafe(obj, name);
                    return true;
                }
                value = SequenceMethod(l, name);
                return value != null;
            case Namespace ns:
                return ns.Attributes.TryGet(name, out value);
            case LoopContext loop:
                value = loop.Attribute(name);
                if (LoopContext.IsMissing(value))
                {
                    value = null;
                    return false;
                }
                return true;
            case Cycler c:
                value = c.Attribute(name);
                if (ReferenceEquals(value, Cycler.Missing))
                {
                    value = null;
                    return false;
                }
                return true;
            case Macro m:
                value = name switch
                {
                    "name" => m.Name,
                    "arguments" => PyList.Tuple(m.Node.Args.Select(a => (object?)a.Name).ToArray()),
                    "catch_kwargs" => m.Node.AccessesKwargs,
                    "catch_varargs" => m.Node.AccessesVarargs,
                    "caller" => m.Node.AccessesCaller,
                    _ => Cycler.Missing,
                };
                if (ReferenceEquals(value, Cycler.Missing))
                {
                    value = null;
                    return false;
                }
                return true;
            case PyRange r:
                value = name switch
                {
                    "start" => r.Start,
                    "stop" => r.Stop,
                    "step" => r.Step,
                    "count" => Method(name, a => (long)r.Enumerate().Count(x => Py.Eq(x, a.Bind("count", ["value"])[0]))),
                    "index" => Method(name, a =>
                    {
                        var x = a.Bind("index", ["value"])[0];
                        long i = 0;
                        foreach (var y in r.Enumerate())
                        {
                            if (Py.Eq(x, y)) return i;
                            i++;
                        }
                        throw PyException.Value($"{Py.Repr(x)} is not in range");
                    }),
                    _ => null,
                };
                return value != null;
            case bool or long:
                value = name switch
                {
                    "real" or "numerator" => Py.AsLong(obj),
                    "imag" => 0L,
                    "denominator" => 1L,
                    "bit_length" => Method(name, a => (long)(64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)Math.Abs(Py.AsLong(obj))))),
                    "conjugate" => Method(name, a => Py.AsLong(obj)),
                    _ => null,
                };
                return value != null;
            case double dv:
                value = name switch
                {
                    "real" => dv,
                    "imag" => 0.0,
                    "is_integer" => Method(name, a => !double.IsInfinity(dv) && Math.Floor(dv) == dv),
                    "conjugate" => Method(name, a => dv),
                    _ => null,
                };
                return value != null;
            default:
                return false;
        }
    }

    [ThreadStatic] private static object? _receiver;

    /// <summary>A bound method of the value being looked up (repr <c>&lt;built-in method name of type object&gt;</c>).</summary>
    private static BuiltinFunction Method(string name, Func<CallArgs, object?> body) =>
        new(name, (_, a) => body(a), "builtin_function_or_method", $"<built-in method {name} of {Py.TypeName(_receiver)} object>");

    private static BuiltinFunction MethodIt(string name, Func<Interpreter, CallArgs, object?> body) =>
        new(name, body, "builtin_function_or_method", $"<built-in method {name} of {Py.TypeName(_receiver)} object>");

    private static object? DictMethod(PyDict d, string name) => name switch
    {
        "keys" => Method(name, a => { NoArgs(a, name); return new DictView(d, "dict_keys"); }),
        "values" => Method(name, a => { NoArgs(a, name); return new DictView(d, "dict_values"); }),
        "items" => Method(name, a => { NoArgs(a, name); return new DictView(d, "dict_items"); }),
        "copy" => Method(name, a => { NoArgs(a, name); return d.Copy(); }),
        "get" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count is < 1 or > 2) throw PyException.Type($"get expected at most 2 arguments, got {a.Positional.Count}");
            return d.TryGet(a.Positional[0], out var v) ? v : a.Positional.Count > 1 ? a.Positional[1] : null;
        }),
        _ => null,
    };

    private static object? SequenceMethod(PyList l, string name) => name switch
    {
        "index" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count < 1) throw PyException.Type("index expected at least 1 argument, got 0");
            for (int i = 0; i < l.Count; i++)
                if (Py.Eq(l.Items[i], a.Positional[0])) return (long)i;
            throw PyException.Value(l.IsTuple ? "tuple.index(x): x not in tuple" : $"{Py.Repr(a.Positional[0])} is not in list");
        }),
        "count" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count != 1) throw PyException.Type($"{(l.IsTuple ? "tuple" : "list")}.count() takes exactly one argument ({a.Positional.Count} given)");
            return (long)l.Items.Count(x => Py.Eq(x, a.Positional[0]));
        }),
        "copy" when !l.IsTuple => Method(name, a => { NoArgs(a, name); return new PyList(new List<object?>(l.Items)); }),
        _ => null,
    };

    private static void NoArgs(CallArgs a, string name)
    {
        if (a.Positional.Count > 0 || a.Keywords.Count > 0) throw PyException.Type($"{name}() takes no arguments ({a.Positional.Count} given)");
    }

    // ---- str methods ----

    private static string Str(object? v, string what)
    {
        if (v is string s) return s;
        throw PyException.Type($"{what} must be str, not {Py.TypeName(v)}");
    }

    private static long? OptIndex(CallArgs a, int i)
    {
        if (a.Positional.Count <= i || a.Positional[i] == null) return null;
        var v = a.Positional[i];
        if (Py.IsInt(v)) return Py.AsLong(v);
        throw PyException.Type("slice indices must be integers or None or have an __index__ method");
    }

    private static string? StripChars(CallArgs a, string name)
    {
        a.NoKeywords(name);
        if (a.Positional.Count > 1) throw PyException.Type($"{name} expected at most 1 argument, got {a.Positional.Count}");
        if (a.Positional.Count == 0 || a.Positional[0] == null) return null;
        if (a.Positional[0] is string c) return c;
        throw PyException.Type($"{name} arg must be None or str");
    }

    private static bool PrefixMatch(string s, CallArgs a, string name, bool suffix)
    {
        a.NoKeywords(name);
        if (a.Positional.Count is < 1 or > 3) throw PyException.Type($"{name}() takes at least 1 argument ({a.Positional.Count} given)");
        var prefix = a.Positional[0];
        var candidates = prefix switch
        {
            string p => new List<string> { p },
            PyList { IsTuple: true } t when t.Items.All(x => x is string) => t.Items.Cast<string>().ToList(),
            PyList { IsTuple: true } => throw PyException.Type($"tuple for {name} must only contain str, not {Py.TypeName(((PyList)prefix).Items.First(x => x is not string))}"),
            _ => throw PyException.Type($"{name} first arg must be str or a tuple of str, not {Py.TypeName(prefix)}"),
        };
        int n = PyString.Length(s);
        long? start = OptIndex(a, 1), end = OptIndex(a, 2);
        var (lo, hi) = PyString.ClampRange(n, start, end);
        if (lo > n) return false;
        string window = PyString.SliceCodePoints(s, lo, Math.Max(lo, hi));
        foreach (var c in candidates)
        {
            if (hi - lo < PyString.Length(c) && !(c.Length == 0 && lo <= hi)) continue;
            if (suffix ? window.EndsWith(c, StringComparison.Ordinal) : window.StartsWith(c, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static long Width(object? v)
    {
        if (Py.IsInt(v)) return Py.AsLong(v);
        throw PyException.Type($"'{Py.TypeName(v)}' object cannot be interpreted as an integer");
    }

    private static char FillChar(CallArgs a, int i, string name)
    {
        if (a.Positional.Count <= i) return ' ';
        if (a.Positional[i] is string f && PyString.Length(f) == 1 && f.Length == 1) return f[0];
        throw PyException.Type($"{name}() argument 2 must be a unicode character, not {Py.TypeName(a.Positional[i])}");
    }

    private static (string? Sep, long MaxSplit) SplitArgs(CallArgs a, string name)
    {
        var v = a.Bind(name, ["sep", "maxsplit"], null, -1L);
        string? sep = v[0] switch
        {
            null => null,
            string s => s,
            _ => throw PyException.Type($"must be str or None, not {Py.TypeName(v[0])}"),
        };
        if (!Py.IsInt(v[1])) throw PyException.Type($"'{Py.TypeName(v[1])}' object cannot be interpreted as an integer");
        return (sep, Py.AsLong(v[1]));
    }

    private static object? StringMethod(string s, string name) => name switch
    {
        "strip" => Method(name, a => PyString.Strip(s, StripChars(a, name), true, true)),
        "lstrip" => Method(name, a => PyString.Strip(s, StripChars(a, name), true, false)),
        "rstrip" => Method(name, a => PyString.Strip(s, StripChars(a, name), false, true)),
        "split" => Method(name, a => { var (sep, max) = SplitArgs(a, name); return new PyList(PyString.Split(s, sep, max)); }),
        "rsplit" => Method(name, a => { var (sep, max) = SplitArgs(a, name); return new PyList(PyString.RSplit(s, sep, max)); }),
        "splitlines" => Method(name, a => new PyList(PyString.SplitLines(s, Py.Truthy(a.Bind(name, ["keepends"], false)[0])))),
        "startswith" => Method(name, a => PrefixMatch(s, a, name, suffix: false)),
        "endswith" => Method(name, a => PrefixMatch(s, a, name, suffix: true)),
        "replace" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count is < 2 or > 3) throw PyException.Type($"replace expected at least 2 arguments, got {a.Positional.Count}");
            string old = a.Positional[0] as string ?? throw PyException.Type($"replace() argument 1 must be str, not {Py.TypeName(a.Positional[0])}");
            string @new = a.Positional[1] as string ?? throw PyException.Type($"replace() argument 2 must be str, not {Py.TypeName(a.Positional[1])}");
            long count = a.Positional.Count > 2 ? Width(a.Positional[2]) : -1;
            return PyString.Replace(s, old, @new, count);
        }),
        "upper" => Method(name, a => { NoArgs(a, name); return PyString.Upper(s); }),
        "lower" => Method(name, a => { NoArgs(a, name); return PyString.Lower(s); }),
        "casefold" => Method(name, a => { NoArgs(a, name); return PyString.Lower(s); }),
        "title" => Method(name, a => { NoArgs(a, name); return PyString.Title(s); }),
        "capitalize" => Method(name, a => { NoArgs(a, name); return PyString.Capitalize(s); }),
        "swapcase" => Method(name, a => { NoArgs(a, name); return PyString.SwapCase(s); }),
        "find" or "rfind" or "index" or "rindex" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count is < 1 or > 3) throw PyException.Type($"{name} expected at least 1 argument, got {a.Positional.Count}");
            string sub = Str(a.Positional[0], "argument");
            int k = PyString.Find(s, sub, OptIndex(a, 1), OptIndex(a, 2), reverse: name[0] == 'r');
            if (k < 0 && name.EndsWith("index", StringComparison.Ordinal)) throw PyException.Value("substring not found");
            return (long)k;
        }),
        "count" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count is < 1 or > 3) throw PyException.Type($"count expected at least 1 argument, got {a.Positional.Count}");
            return PyString.Count(s, Str(a.Positional[0], "argument"), OptIndex(a, 1), OptIndex(a, 2));
        }),
        "join" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count != 1) throw PyException.Type($"str.join() takes exactly one argument ({a.Positional.Count} given)");
            var sb = new StringBuilder();
            int i = 0;
            foreach (var item in Py.Iterate(a.Positional[0]))
            {
                if (item is not string t) throw PyException.Type($"sequence item {i}: expected str instance, {Py.TypeName(item)} found");
                if (i++ > 0) sb.Append(s);
                sb.Append(t);
            }
            return sb.ToString();
        }),
        "center" or "ljust" or "rjust" => Method(name, a =>
        {
            a.NoKeywords(name);
            if (a.Positional.Count is < 1 or > 2) throw PyException.Type($"{name} expected at least 1 argument, got {a.Positional.Count}");
            return PyString.Pad(s, Width(a.Positional[0]), FillChar(a, 1, name), name == "center" ? 0 : name == "ljust" ? -1 : 1);
        }),
        "zfill" => Method(name, a =>
        {
            a.NoKeywords(name);
            long width = Width(a.Positional.Count == 1 ? a.Positional[0] : throw PyException.Type($"zfill() takes exactly one argument ({a.Positional.Count} given)"));
            int len = PyString.Length(s);
            if (width <= len) return s;
            string sign = s.Length > 0 && s[0] is '+' or '-' ? s[..1] : "";
            return sign + new string('0', (int)width - len) + s[sign.Length..];
        }),
        "partition" or "rpartition" => Method(name, a =>
        {
            a.NoKeywords(name);
            string sep = Str(a.Positional.Count == 1 ? a.Positional[0] : throw PyException.Type($"{name}() takes exactly one argument ({a.Positional.Count} given)"), "argument");
            if (sep.Length == 0) throw PyException.Value("empty separator");
            int k = name == "partition" ? s.IndexOf(sep, StringComparison.Ordinal) : s.LastIndexOf(sep, StringComparison.Ordinal);
            if (k < 0) return name == "partition" ? PyList.Tuple(s, "", "") : PyList.Tuple("", "", s);
            return PyList.Tuple(s[..k], sep, s[(k + sep.Length)..]);
        }),
        "removeprefix" => Method(name, a =>
        {
            a.NoKeywords(name);
            string p = Str(a.Positional.Count == 1 ? a.Positional[0] : null, "removeprefix() argument");
            return s.StartsWith(p, StringComparison.Ordinal) ? s[p.Length..] : s;
        }),
        "removesuffix" => Method(name, a =>
        {
            a.NoKeywords(name);
            string p = Str(a.Positional.Count == 1 ? a.Positional[0] : null, "removesuffix() argument");
            return p.Length > 0 && s.EndsWith(p, StringComparison.Ordinal) ? s[..^p.Length] : s;
        }),
        "format" => MethodIt(name, (it, a) => PyFormat.Format(it, s, a)),
        "format_map" => MethodIt(name, (it, a) =>
        {
            if (a.Keywords.Count > 0) throw PyException.Type("format_map() takes no keyword arguments");
            if (a.Positional.Count != 1) throw PyException.Type($"format_map() takes exactly one argument ({a.Positional.Count} given)");
            var kw = new List<KeyValuePair<string, object?>>();
            if (a.Positional[0] is PyDict d)
                foreach (var kv in d.Items) kw.Add(new(Py.Str(kv.Key), kv.Value));
            return PyFormat.Format(it, s, new CallArgs(new List<object?>(), kw));
        }),
        "isdigit" or "isdecimal" or "isnumeric" => Method(name, a => { NoArgs(a, name); return s.Length > 0 && s.EnumerateRunes().All(r => Rune.IsDigit(r) || (name != "isdecimal" && Rune.IsNumber(r) && name == "isnumeric")); }),
        "isalpha" => Method(name, a => { NoArgs(a, name); return s.Length > 0 && s.EnumerateRunes().All(Rune.IsLetter); }),
        "isalnum" => Method(name, a => { NoArgs(a, name); return s.Length > 0 && s.EnumerateRunes().All(r => Rune.IsLetterOrDigit(r) || Rune.IsNumber(r)); }),
        "isspace" => Method(name, a => { NoArgs(a, name); return s.Length > 0 && s.All(c => PyString.IsSpace(c)); }),
        "islower" => Method(name, a => { NoArgs(a, name); return PyString.IsLowerStr(s); }),
        "isupper" => Method(name, a => { NoArgs(a, name); return PyString.IsUpperStr(s); }),
        "isascii" => Method(name, a => { NoArgs(a, name); return s.All(c => c < 0x80); }),
        "istitle" => Method(name, a => { NoArgs(a, name); return s.Length > 0 && PyString.Title(s) == s && s.EnumerateRunes().Any(r => PyString.IsCased(r.Value)); }),
        "isidentifier" => Method(name, a => { NoArgs(a, name); return s.Length > 0 && (char.IsLetter(s[0]) || s[0] == '_') && s.All(c => char.IsLetterOrDigit(c) || c == '_'); }),
        "isprintable" => Method(name, a => { NoArgs(a, name); return PyString.CodePoints(s).All(PyString.IsPrintable); }),
        "expandtabs" => Method(name, a =>
        {
            long tab = Py.AsLong(a.Bind(name, ["tabsize"], 8L)[0]);
            var sb = new StringBuilder();
            int col = 0;
            foreach (char c in s)
            {
                if (c == '\t')
                {
                    if (tab > 0)
                    {
                        int n = (int)(tab - col % tab);
                        sb.Append(' ', n);
                        col += n;
                    }
                }
                else
                {
                    sb.Append(c);
                    col = c is '\n' or '\r' ? 0 : col + 1;
                }
            }
            return sb.ToString();
        }),
        _ => null,
    };

}
