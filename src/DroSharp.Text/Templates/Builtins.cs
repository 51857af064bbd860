using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DroSharp.Text.Templates;

/// <summary>
/// Jinja2's built-in filters, tests and globals (jinja2/filters.py, tests.py, defaults.py), with transformers'
/// <c>tojson</c> (<c>json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)</c>),
/// <c>raise_exception</c> and <c>strftime_now</c>.
/// </summary>
internal static class Builtins
{
    private delegate object? Filter(Interpreter it, object? value, CallArgs args);

    private delegate bool TestFn(Interpreter it, object? value, CallArgs args);

    private static readonly Dictionary<string, Filter> Filters = new();
    private static readonly Dictionary<string, TestFn> Tests = new();

    public static bool HasFilter(string name) => Filters.ContainsKey(name);
    public static bool HasTest(string name) => Tests.ContainsKey(name);

    public static object? CallFilter(Interpreter it, string name, object? value, CallArgs args)
    {
        if (!Filters.TryGetValue(name, out var f)) throw new PyException("TemplateRuntimeError", $"No filter named {PyString.Repr(name)} found.");
        return f(it, value, args);
    }

    public static bool CallTest(Interpreter it, string name, object? value, CallArgs args)
    {
        if (!Tests.TryGetValue(name, out var t)) throw new PyException("TemplateRuntimeError", $"No test named {PyString.Repr(name)} found.");
        return t(it, value, args);
    }

    /// <summary>The default namespace: <c>range</c>, <c>dict</c>, <c>namespace</c>, <c>cycler</c>, <c>joiner</c>, plus transformers' two functions.</summary>
    public static void AddGlobals(Dictionary<string, object?> context)
    {
        context["range"] = new BuiltinFunction("range", (_, a) =>
        {
            a.NoKeywords("range");
            var p = a.Positional.Select(x => x is Undefined u ? throw u.Error() : Py.IsInt(x) ? Py.AsLong(x)
                : throw PyException.Type($"'{Py.TypeName(x)}' object cannot be interpreted as an integer")).ToList();
            return p.Count switch
            {
                1 => new PyRange(0, p[0], 1),
                2 => new PyRange(p[0], p[1], 1),
                3 => new PyRange(p[0], p[1], p[2]),
                0 => throw PyException.Type("range expected at least 1 argument, got 0"),
                _ => throw PyException.Type($"range expected at most 3 arguments, got {p.Count}"),
            };
        }, "type", "<class 'range'>");
        context["dict"] = new BuiltinFunction("dict", (_, a) => MakeDict(a, "dict"), "type", "<class 'dict'>");
        context["namespace"] = new BuiltinFunction("namespace", (_, a) => new Namespace(MakeDict(a, "namespace")), "type", "<class 'jinja2.utils.Namespace'>");
        context["cycler"] = new BuiltinFunction("cycler", (_, a) =>
        {
            a.NoKeywords("cycler");
            if (a.Positional.Count == 0) throw PyException.Runtime("at least one item has to be provided");
            return new Cycler(a.Positional);
        }, "type", "<class 'jinja2.utils.Cycler'>");
        context["joiner"] = new BuiltinFunction("joiner", (_, a) => new Joiner(Py.Str(a.Bind("joiner", ["sep"], ", ")[0])), "type", "<class 'jinja2.utils.Joiner'>");
        context["raise_exception"] = new BuiltinFunction("raise_exception", (_, a) =>
        {
            var message = a.Bind("raise_exception", ["message"])[0];
            throw new PyException("TemplateError", Py.Str(message)) { RaisedByTemplate = true };
        }, "function", "<function raise_exception>");
        context["strftime_now"] = new BuiltinFunction("strftime_now", (it, a) =>
        {
            var format = a.Bind("strftime_now", ["format"])[0];
            if (format is not string f) throw PyException.Type($"strftime() argument 1 must be str, not {Py.TypeName(format)}");
            return Strftime.Format(it.Clock(), f);
        }, "function", "<function strftime_now>");
    }

    private static PyDict MakeDict(CallArgs a, string name)
    {
        if (a.Positional.Count > 1) throw PyException.Type($"{name} expected at most 1 argument, got {a.Positional.Count}");
        var d = new PyDict();
        if (a.Positional.Count == 1)
        {
            var src = a.Positional[0];
            if (src is PyDict sd)
                foreach (var kv in sd.Items) d.Set(kv.Key, kv.Value);
            else
            {
                int i = 0;
                foreach (var item in Py.Iterate(src))
                {
                    var pair = Py.ToList(item);
                    if (pair.Count != 2) throw PyException.Value($"dictionary update sequence element #{i} has length {pair.Count}; 2 is required");
                    d.Set(pair[0], pair[1]);
                    i++;
                }
            }
        }
        foreach (var (k, v) in a.Keywords) d.Set(k, v);
        return d;
    }

    // ---------------- helpers ----------------

    /// <summary>markupsafe's <c>soft_str</c>: str() of the value (Undefined gives "").</summary>
    private static string SoftStr(object? v) => Py.Str(v);

    private static bool Bool(object? v) => Py.Truthy(v);

    private static long Int(object? v, string what)
    {
        if (Py.IsInt(v)) return Py.AsLong(v);
        if (v is Undefined u) throw u.Error();
        throw PyException.Type($"'{Py.TypeName(v)}' object cannot be interpreted as an integer");
    }

    /// <summary>jinja2's make_attrgetter: dotted path, integer parts as ints, looked up with getitem; <paramref name="default"/> replaces Undefined.</summary>
    private static Func<object?, object?> AttrGetter(Interpreter it, object? attribute, Func<object?, object?>? post = null, object? @default = null)
    {
        var parts = AttributeParts(attribute);
        return item =>
        {
            foreach (var part in parts)
            {
                item = it.GetItem(item, part);
                if (@default != null && item is Undefined) item = @default;
            }
            return post != null ? post(item) : item;
        };
    }

    private static List<object?> AttributeParts(object? attribute) => attribute switch
    {
        null => new List<object?>(),
        string s => s.Split('.').Select(x => x.Length > 0 && x.All(char.IsAsciiDigit) && long.TryParse(x, CultureInfo.InvariantCulture, out long n) ? (object?)n : x).ToList(),
        _ => new List<object?> { attribute },
    };

    private static object? IgnoreCase(object? v) => v is string s ? PyString.Lower(s) : v;

    private static Func<object?, object?> MultiAttrGetter(Interpreter it, object? attribute, Func<object?, object?>? post)
    {
        var split = attribute is string s ? s.Split(',').Select(x => (object?)x).ToList() : new List<object?> { attribute };
        var getters = split.Select(a => AttrGetter(it, a, post)).ToList();
        if (attribute == null) return item => post != null ? post(item) : item;
        return item => new PyList(getters.Select(g => g(item)).ToList());
    }

    private static void Register(Filter f, params string[] names)
    {
        foreach (var n in names) Filters[n] = f;
    }

    private static void RegisterTest(TestFn t, params string[] names)
    {
        foreach (var n in names) Tests[n] = t;
    }

    private static string HtmlEscape(string s) =>
        s.Replace("&", "&amp;").Replace(">", "&gt;").Replace("<", "&lt;").Replace("'", "&#39;").Replace("\"", "&#34;");

    private static readonly Regex WordBeginning = new(@"([-\s({\[<]+)", RegexOptions.CultureInvariant);
    private static readonly Regex Word = new(@"\w+", RegexOptions.CultureInvariant);

    static Builtins()
    {
        // ---- filters ----
        Register((_, v, a) =>
        {
            a.Bind("abs", []);
            return v switch
            {
                bool or long => (object)Math.Abs(Py.AsLong(v)),
                double d => (object)Math.Abs(d),
                Undefined u => throw PyException.Type("bad operand type for abs(): 'Undefined'"),
                _ => throw PyException.Type($"bad operand type for abs(): '{Py.TypeName(v)}'"),
            };
        }, "abs");
        Register((it, v, a) =>
        {
            string name = Py.Str(a.Bind("attr", ["name"])[0]);
            if (v is Undefined u) throw u.Error();
            return PyAttributes.TryGet(it, v, name, out var r) ? r : Undefined.ForMember(v, name);
        }, "attr");
        Register((_, v, a) =>
        {
            var p = a.Bind("batch", ["linecount", "fill_with"], (object?)null);
            long n = Int(p[0], "linecount");
            var fill = p[1];
            return new PyIterator(Lazy(() => Batch(Py.Iterate(v), n, fill)), qualifiedName: "do_batch");
        }, "batch");
        Register((_, v, a) => { a.Bind("capitalize", []); return PyString.Capitalize(SoftStr(v)); }, "capitalize");
        Register((_, v, a) =>
        {
            long width = Int(a.Bind("center", ["width"], 80L)[0], "width");
            return PyString.Pad(SoftStr(v), width, ' ', 0);
        }, "center");
        Register((_, v, a) => { a.Bind("length", []); return Py.Len(v); }, "length", "count");
        Register((_, v, a) =>
        {
            var p = a.Bind("default", ["default_value", "boolean"], "", false);
            return v is Undefined || (Bool(p[1]) && !Py.Truthy(v)) ? p[0] : v;
        }, "default", "d");
        Register((_, v, a) =>
        {
            var p = a.Bind("dictsort", ["case_sensitive", "by", "reverse"], false, "key", false);
            int pos = Py.Str(p[1]) switch
            {
                "key" => 0,
                "value" => 1,
                _ => throw new PyException("FilterArgumentError", "You can only sort by either \"key\" or \"value\""),
            };
            if (v is not PyDict d) throw new PyException("AttributeError", $"'{Py.TypeName(v)}' object has no attribute 'items'");
            var items = d.Items.Select(kv => (object?)PyList.Tuple(kv.Key, kv.Value)).ToList();
            bool cs = Bool(p[0]);
            return new PyList(SortedBy(items, x => { var k = ((PyList)x!).Items[pos]; return cs ? k : IgnoreCase(k); }, Bool(p[2])));
        }, "dictsort");
        Register((_, v, a) => { a.Bind("escape", []); return HtmlEscape(SoftStr(v)); }, "escape", "e", "forceescape");
        Register((_, v, a) =>
        {
            a.Bind("first", []);
            foreach (var x in Py.Iterate(v)) return x;
            return Undefined.WithHint("No first item, sequence was empty.");
        }, "first");
        Register((_, v, a) =>
        {
            var dflt = a.Bind("float", ["default"], 0.0)[0];
            return ToFloat(v) ?? dflt;
        }, "float");
        Register((_, v, a) =>
        {
            if (a.Positional.Count > 0 && a.Keywords.Count > 0)
                throw new PyException("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
            object? args;
            if (a.Keywords.Count > 0)
            {
                var d = new PyDict();
                foreach (var (k, x) in a.Keywords) d.Set(k, x);
                args = d;
            }
            else args = new PyList(a.Positional, isTuple: true);
            return PyFormat.Percent(SoftStr(v), args);
        }, "format");
        Register((it, v, a) =>
        {
            var p = a.Bind("groupby", ["attribute", "default", "case_sensitive"], null, false);
            bool cs = Bool(p[2]);
            var key = AttrGetter(it, p[0], cs ? null : IgnoreCase, p[1]);
            var sorted = SortedBy(Py.ToList(v), key, false);
            var groups = new List<object?>();
            var output = AttrGetter(it, p[0], null, p[1]);
            int i = 0;
            while (i < sorted.Count)
            {
                var k = key(sorted[i]);
                var members = new List<object?>();
                while (i < sorted.Count && Py.Eq(key(sorted[i]), k)) members.Add(sorted[i++]);
                groups.Add(PyList.Tuple(cs ? k : output(members[0]), new PyList(members)));
            }
            return new PyList(groups);
        }, "groupby");
        Register((_, v, a) =>
        {
            var p = a.Bind("indent", ["width", "first", "blank"], 4L, false, false);
            string indention = p[0] is string ws ? ws : new string(' ', (int)Int(p[0], "width"));
            if (v is PyList { IsTuple: false }) throw new PyException("AttributeError", "'list' object has no attribute 'splitlines'");
            if (v is not string)
            {
                if (v is PyList) Py.Add(v, "\n");
                if (v is Undefined u) throw u.Error();
                throw PyException.Type($"unsupported operand type(s) for +=: '{Py.TypeName(v)}' and 'str'");
            }
            string s = SoftStr(v) + "\n";
            var lines = PyString.SplitLines(s, false).Cast<string>().ToList();
            string rv;
            if (Bool(p[2])) rv = string.Join("\n" + indention, lines);
            else
            {
                rv = lines[0];
                if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indention + l : l));
            }
            if (Bool(p[1])) rv = indention + rv;
            return rv;
        }, "indent");
        Register((_, v, a) =>
        {
            var p = a.Bind("int", ["default", "base"], 0L, 10L);
            return ToInt(v, Int(p[1], "base")) ?? p[0];
        }, "int");
        Register((_, v, a) =>
        {
            a.Bind("items", []);
            return new PyIterator(Lazy(() =>
            {
                if (v is Undefined) return [];
                if (v is not PyDict d) throw PyException.Type("Can only get item pairs from a mapping.");
                return d.Items.Select(kv => (object?)PyList.Tuple(kv.Key, kv.Value)).ToList();
            }), qualifiedName: "do_items");
        }, "items");
        Register((it, v, a) =>
        {
            var p = a.Bind("join", ["d", "attribute"], "", null);
            IEnumerable<object?> items = Py.Iterate(v);
            if (p[1] != null)
            {
                var getter = AttrGetter(it, p[1]);
                items = items.Select(getter).ToList();
            }
            return string.Join(SoftStr(p[0]), items.Select(SoftStr));
        }, "join");
        Register((_, v, a) =>
        {
            a.Bind("last", []);
            var items = Reversed(v);
            foreach (var x in items) return x;
            return Undefined.WithHint("No last item, sequence was empty.");
        }, "last");
        Register((_, v, a) => { a.Bind("list", []); return new PyList(Py.ToList(v)); }, "list");
        Register((_, v, a) => { a.Bind("lower", []); return PyString.Lower(SoftStr(v)); }, "lower");
        Register((_, v, a) => { a.Bind("upper", []); return PyString.Upper(SoftStr(v)); }, "upper");
        Register((it, v, a) => new PyIterator(Lazy(() =>
        {
            if (!Py.Truthy(v)) return [];
            Func<object?, object?> func;
            if (a.Positional.Count == 0 && a.Keywords.Any(k => k.Key == "attribute"))
            {
                var kw = a.Keywords.ToList();
                var attribute = kw.First(k => k.Key == "attribute").Value;
                kw.RemoveAll(k => k.Key == "attribute");
                object? dflt = null;
                int di = kw.FindIndex(k => k.Key == "default");
                if (di >= 0)
                {
                    dflt = kw[di].Value;
                    kw.RemoveAt(di);
                }
                if (kw.Count > 0) throw new PyException("FilterArgumentError", $"Unexpected keyword argument {PyString.Repr(kw[0].Key)}");
                func = AttrGetter(it, attribute, null, dflt);
            }
            else
            {
                if (a.Positional.Count == 0) throw new PyException("FilterArgumentError", "map requires a filter argument");
                string name = Py.Str(a.Positional[0]);
                var rest = new CallArgs(a.Positional.Skip(1).ToList(), a.Keywords);
                func = x => it.CallFilter(name, x, rest);
            }
            return Py.Iterate(v).Select(func);
        }), qualifiedName: "sync_do_map"), "map");
        Register((it, v, a) => MinMax(it, v, a, "min"), "min");
        Register((it, v, a) => MinMax(it, v, a, "max"), "max");
        Register((_, v, a) => { a.Bind("pprint", []); return Py.Repr(v); }, "pprint");
        Register((it, v, a) => SelectOrReject(it, v, a, select: true, attr: false), "select");
        Register((it, v, a) => SelectOrReject(it, v, a, select: false, attr: false), "reject");
        Register((it, v, a) => SelectOrReject(it, v, a, select: true, attr: true), "selectattr");
        Register((it, v, a) => SelectOrReject(it, v, a, select: false, attr: true), "rejectattr");
        Register((_, v, a) =>
        {
            var p = a.Bind("replace", ["old", "new", "count"], (object?)null);
            long count = p[2] == null ? -1 : Int(p[2], "count");
            return PyString.Replace(SoftStr(v), SoftStr(p[0]), SoftStr(p[1]), count);
        }, "replace");
        Register((_, v, a) =>
        {
            a.Bind("reverse", []);
            if (v is string s) return Py.Slice(s, null, null, -1L);
            if (v is PyList or PyDict or PyRange or Undefined)
                return new PyIterator(Reversed(v), v switch { PyList { IsTuple: false } => "list_reverseiterator", PyDict => "dict_reversekeyiterator", PyRange => "range_iterator", _ => "reversed" });
            try
            {
                var list = Py.ToList(v);
                list.Reverse();
                return new PyList(list);
            }
            catch (PyException e) when (e.PyType == "TypeError")
            {
                throw new PyException("FilterArgumentError", "argument must be iterable");
            }
        }, "reverse");
        Register((_, v, a) =>
        {
            var p = a.Bind("round", ["precision", "method"], 0L, "common");
            string method = Py.Str(p[1]);
            if (method is not ("common" or "ceil" or "floor")) throw new PyException("FilterArgumentError", "method must be common, ceil or floor");
            long precision = Int(p[0], "precision");
            if (method == "common")
            {
                if (!Py.IsNumber(v)) throw PyException.Type($"type {Py.TypeName(v)} doesn't define __round__ method");
                if (Py.IsInt(v)) return PyRound.RoundInt(Py.AsLong(v), precision);
                return PyRound.Round((double)v!, precision);
            }
            double scale = Math.Pow(10, precision);
            if (!Py.IsNumber(v)) Py.Mul(v, Py.Pow(10L, precision)); // raises Python's error for value * 10**precision
            double x = Py.AsDouble(v) * scale;
            return (method == "ceil" ? Math.Ceiling(x) : Math.Floor(x)) / scale;
        }, "round");
        Register((_, v, a) => { a.Bind("safe", []); return SoftStr(v); }, "safe");
        Register((_, v, a) =>
        {
            var p = a.Bind("slice", ["slices", "fill_with"], (object?)null);
            long slices = Int(p[0], "slices");
            return new PyIterator(Lazy(() => SliceFilter(Py.ToList(v), slices, p[1])), qualifiedName: "sync_do_slice");
        }, "slice");
        Register((it, v, a) =>
        {
            var p = a.Bind("sort", ["reverse", "case_sensitive", "attribute"], false, false, null);
            var key = MultiAttrGetter(it, p[2], Bool(p[1]) ? null : IgnoreCase);
            return new PyList(SortedBy(Py.ToList(v), key, Bool(p[0])));
        }, "sort");
        Register((_, v, a) => { a.Bind("string", []); return SoftStr(v); }, "string");
        Register((_, v, a) =>
        {
            a.Bind("striptags", []);
            string s = Regex.Replace(SoftStr(v), @"<!--.*?-->|<[^>]*>", "", RegexOptions.Singleline);
            return string.Join(" ", PyString.Split(s, null, -1).Cast<string>()).Replace("&lt;", "<").Replace("&gt;", ">").Replace("&#39;", "'").Replace("&#34;", "\"").Replace("&quot;", "\"").Replace("&amp;", "&");
        }, "striptags");
        Register((it, v, a) =>
        {
            var p = a.Bind("sum", ["attribute", "start"], null, 0L);
            IEnumerable<object?> items = Py.Iterate(v);
            if (p[0] != null) items = items.Select(AttrGetter(it, p[0]));
            object? total = p[1];
            foreach (var x in items) total = Py.Add(total, x);
            return total;
        }, "sum");
        Register((_, v, a) =>
        {
            a.Bind("title", []);
            var parts = WordBeginning.Split(SoftStr(v));
            var sb = new StringBuilder();
            foreach (var item in parts)
            {
                if (item.Length == 0) continue;
                var r = Rune.GetRuneAt(item, 0);
                sb.Append(PyString.Upper(r.ToString())).Append(PyString.Lower(item[r.Utf16SequenceLength..]));
            }
            return sb.ToString();
        }, "title");
        Register((_, v, a) =>
        {
            // transformers' tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
            var p = a.Bind("tojson", ["ensure_ascii", "indent", "separators", "sort_keys"], false, null, null, false);
            string? indent = p[1] switch
            {
                null => null,
                string s => s,
                bool or long => new string(' ', (int)Math.Max(0, Py.AsLong(p[1]))),
                _ => throw PyException.Type($"indent must be an int or a string, not {Py.TypeName(p[1])}"),
            };
            string? itemSep = null, keySep = null;
            if (p[2] != null)
            {
                var seps = Py.ToList(p[2]);
                if (seps.Count != 2) throw PyException.Value($"too many values to unpack (expected 2)");
                itemSep = Py.Str(seps[0]);
                keySep = Py.Str(seps[1]);
            }
            return PyJson.Dumps(v, indent, itemSep, keySep, Bool(p[3]), Bool(p[0]));
        }, "tojson");
        Register((_, v, a) =>
        {
            var chars = a.Bind("trim", ["chars"], (object?)null)[0];
            if (chars != null && chars is not string) throw PyException.Type("strip arg must be None or str");
            return PyString.Strip(SoftStr(v), (string?)chars, true, true);
        }, "trim");
        Register((_, v, a) =>
        {
            var p = a.Bind("truncate", ["length", "killwords", "end", "leeway"], 255L, false, "...", null);
            if (v is not string)
            {
                // jinja2 applies len() and slicing to the value itself
                long len = Py.Len(v);
                long lim = Int(p[0], "length") + (p[3] == null ? 5 : Int(p[3], "leeway"));
                if (len <= lim) return v;
                throw PyException.Type($"the truncate filter needs a string, not {Py.TypeName(v)}");
            }
            string s = (string)v;
            long length = Int(p[0], "length");
            string end = SoftStr(p[2]);
            long leeway = p[3] == null ? 5 : Int(p[3], "leeway");
            if (length < PyString.Length(end)) throw new PyException("AssertionError", $"expected length >= {PyString.Length(end)}, got {length}");
            if (PyString.Length(s) <= length + leeway) return s;
            string head = PyString.SliceCodePoints(s, 0, (int)(length - PyString.Length(end)));
            if (Bool(p[1])) return head + end;
            int sp = head.LastIndexOf(' ');
            return (sp >= 0 ? head[..sp] : head) + end;
        }, "truncate");
        Register((it, v, a) =>
        {
            var p = a.Bind("unique", ["case_sensitive", "attribute"], false, null);
            var key = AttrGetter(it, p[1], Bool(p[0]) ? null : IgnoreCase);
            return new PyIterator(Lazy(() => Unique(Py.Iterate(v), key)), qualifiedName: "sync_do_unique");
        }, "unique");
        Register((_, v, a) => { a.Bind("wordcount", []); return (long)Word.Matches(SoftStr(v)).Count; }, "wordcount");
        foreach (var name in new[] { "filesizeformat", "random", "urlencode", "urlize", "wordwrap", "xmlattr" })
        {
            string n = name;
            Register((_, _, _) => throw new PyException("TemplateRuntimeError", $"the '{n}' filter is not supported by DroSharp's chat template engine"), n);
        }

        // ---- tests ----
        RegisterTest((_, v, a) => { a.Bind("odd", []); return Py.Eq(Py.Mod(v, 2L), 1L); }, "odd");
        RegisterTest((_, v, a) => { a.Bind("even", []); return Py.Eq(Py.Mod(v, 2L), 0L); }, "even");
        RegisterTest((_, v, a) => Py.Eq(Py.Mod(v, a.Bind("divisibleby", ["num"])[0]), 0L), "divisibleby");
        RegisterTest((_, v, a) => { a.Bind("defined", []); return v is not Undefined; }, "defined");
        RegisterTest((_, v, a) => { a.Bind("undefined", []); return v is Undefined; }, "undefined");
        RegisterTest((_, v, a) => { a.Bind("filter", []); return v is string s && HasFilter(s); }, "filter");
        RegisterTest((_, v, a) => { a.Bind("test", []); return v is string s && HasTest(s); }, "test");
        RegisterTest((_, v, a) => { a.Bind("none", []); return v == null; }, "none");
        RegisterTest((_, v, a) => { a.Bind("boolean", []); return v is bool; }, "boolean");
        RegisterTest((_, v, a) => { a.Bind("false", []); return v is false; }, "false");
        RegisterTest((_, v, a) => { a.Bind("true", []); return v is true; }, "true");
        RegisterTest((_, v, a) => { a.Bind("integer", []); return v is long; }, "integer");
        RegisterTest((_, v, a) => { a.Bind("float", []); return v is double; }, "float");
        RegisterTest((_, v, a) => { a.Bind("lower", []); return PyString.IsLowerStr(SoftStr(v)); }, "lower");
        RegisterTest((_, v, a) => { a.Bind("upper", []); return PyString.IsUpperStr(SoftStr(v)); }, "upper");
        RegisterTest((_, v, a) => { a.Bind("string", []); return v is string; }, "string");
        RegisterTest((_, v, a) => { a.Bind("mapping", []); return v is PyDict; }, "mapping");
        RegisterTest((_, v, a) => { a.Bind("number", []); return Py.IsNumber(v); }, "number");
        RegisterTest((_, v, a) => { a.Bind("sequence", []); return v is string or PyList or PyDict or PyRange or Undefined; }, "sequence");
        RegisterTest((_, v, a) =>
        {
            var other = a.Bind("sameas", ["other"])[0];
            return v switch
            {
                null => other == null,
                bool b => other is bool c && b == c,
                long l => other is long m && l == m && l is >= -5 and <= 256,
                _ => ReferenceEquals(v, other),
            };
        }, "sameas");
        RegisterTest((_, v, a) => { a.Bind("iterable", []); return Py.IsIterable(v); }, "iterable");
        RegisterTest((_, v, a) => { a.Bind("callable", []); return v is PyCallable or LoopContext or Undefined { ErrorType: "SecurityError" }; }, "callable");
        RegisterTest((_, v, a) => { a.Bind("escaped", []); return false; }, "escaped");
        RegisterTest((_, v, a) => Py.Contains(a.Bind("in", ["seq"])[0], v), "in");
        RegisterTest((_, v, a) => Py.Eq(v, a.Bind("eq", ["b"])[0]), "==", "eq", "equalto");
        RegisterTest((_, v, a) => !Py.Eq(v, a.Bind("ne", ["b"])[0]), "!=", "ne");
        RegisterTest((_, v, a) => Py.Order(">", v, a.Bind("gt", ["b"])[0]), ">", "gt", "greaterthan");
        RegisterTest((_, v, a) => Py.Order(">=", v, a.Bind("ge", ["b"])[0]), ">=", "ge");
        RegisterTest((_, v, a) => Py.Order("<", v, a.Bind("lt", ["b"])[0]), "<", "lt", "lessthan");
        RegisterTest((_, v, a) => Py.Order("<=", v, a.Bind("le", ["b"])[0]), "<=", "le");
    }

    /// <summary>Defers <paramref name="source"/> to the first iteration, as a Python generator function does.</summary>
    private static IEnumerable<object?> Lazy(Func<IEnumerable<object?>> source)
    {
        foreach (var x in source()) yield return x;
    }

    private static IEnumerable<object?> Batch(IEnumerable<object?> items, long n, object? fill)
    {
        var tmp = new List<object?>();
        foreach (var item in items)
        {
            if (tmp.Count == n)
            {
                yield return new PyList(tmp);
                tmp = new List<object?>();
            }
            tmp.Add(item);
        }
        if (tmp.Count > 0)
        {
            if (fill != null)
                while (tmp.Count < n) tmp.Add(fill);
            yield return new PyList(tmp);
        }
    }

    private static IEnumerable<object?> SliceFilter(List<object?> seq, long slices, object? fill)
    {
        long length = seq.Count;
        long per = length / slices, extra = length % slices, offset = 0;
        for (long k = 0; k < slices; k++)
        {
            long start = offset + k * per;
            if (k < extra) offset++;
            long end = offset + (k + 1) * per;
            var tmp = seq.Skip((int)start).Take((int)Math.Max(0, end - start)).ToList();
            if (fill != null && k >= extra) tmp.Add(fill);
            yield return new PyList(tmp);
        }
    }

    private static IEnumerable<object?> Unique(IEnumerable<object?> items, Func<object?, object?> key)
    {
        var seen = new PyDict();
        foreach (var item in items)
        {
            var k = key(item);
            if (seen.ContainsKey(k)) continue;
            seen.Set(k, null);
            yield return item;
        }
    }

    /// <summary>Python's <c>reversed()</c>: sequences and dicts; anything else is not reversible.</summary>
    private static IEnumerable<object?> Reversed(object? v)
    {
        switch (v)
        {
            case PyList l:
                for (int i = l.Count - 1; i >= 0; i--) yield return l.Items[i];
                break;
            case string s:
                foreach (var c in Py.Iterate(Py.Slice(s, null, null, -1L))) yield return c;
                break;
            case PyDict d:
                for (int i = d.Count - 1; i >= 0; i--) yield return d.Items[i].Key;
                break;
            case PyRange r:
                for (long i = r.Count - 1; i >= 0; i--) yield return r[i];
                break;
            case Undefined:
                break;
            default:
                throw PyException.Type($"'{Py.TypeName(v)}' object is not reversible");
        }
    }

    /// <summary>Python's stable <c>sorted(items, key=key, reverse=reverse)</c>.</summary>
    private static List<object?> SortedBy(List<object?> items, Func<object?, object?> key, bool reverse)
    {
        var keyed = items.Select(x => (Key: key(x), Item: x)).ToList();
        if (reverse) keyed.Reverse();
        PyJson.MergeSort(keyed, (a, b) => Py.Compare(a.Key, b.Key));
        if (reverse) keyed.Reverse();
        return keyed.Select(k => k.Item).ToList();
    }

    private static object? MinMax(Interpreter it, object? v, CallArgs a, string name)
    {
        var p = a.Bind(name, ["case_sensitive", "attribute"], false, null);
        var items = Py.ToList(v);
        if (items.Count == 0) return Undefined.WithHint("No aggregated item, sequence was empty.");
        var key = AttrGetter(it, p[1], Bool(p[0]) ? null : IgnoreCase);
        var best = items[0];
        var bestKey = key(best);
        foreach (var x in items.Skip(1))
        {
            var k = key(x);
            int c = Py.Compare(k, bestKey);
            if (name == "min" ? c < 0 : c > 0)
            {
                best = x;
                bestKey = k;
            }
        }
        return best;
    }

    private static object? SelectOrReject(Interpreter it, object? v, CallArgs a, bool select, bool attr) =>
        new PyIterator(Lazy(() => SelectOrRejectItems(it, v, a, select, attr)), qualifiedName: "select_or_reject");

    private static IEnumerable<object?> SelectOrRejectItems(Interpreter it, object? v, CallArgs a, bool select, bool attr)
    {
        if (!Py.Truthy(v)) return [];
        var args = a.Positional;
        Func<object?, object?> trans = x => x;
        int off = 0;
        if (attr)
        {
            if (args.Count == 0) throw new PyException("FilterArgumentError", "Missing parameter for attribute name");
            trans = AttrGetter(it, args[0]);
            off = 1;
        }
        Func<object?, bool> func;
        if (args.Count > off)
        {
            string name = Py.Str(args[off]);
            var rest = new CallArgs(args.Skip(off + 1).ToList(), a.Keywords);
            func = x => it.CallTest(name, x, rest);
        }
        else func = Py.Truthy;
        return Py.Iterate(v).Where(x => func(trans(x)) == select);
    }

    /// <summary>Python <c>float(v)</c>, or null where jinja2's float filter falls back to its default.</summary>
    private static object? ToFloat(object? v)
    {
        switch (v)
        {
            case bool or long or double: return Py.AsDouble(v);
            case string s:
            {
                string t = PyString.Strip(s, null, true, true).Replace("_", "");
                string lower = t.ToLowerInvariant();
                if (lower is "inf" or "+inf" or "infinity" or "+infinity") return double.PositiveInfinity;
                if (lower is "-inf" or "-infinity") return double.NegativeInfinity;
                if (lower is "nan" or "+nan" or "-nan") return double.NaN;
                if (t.Length > 0 && (char.IsAsciiDigit(t[^1]) || t[^1] == '.') && !t.Contains(',') &&
                    double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
                return null;
            }
            case Undefined u: throw u.Error();
            default: return null;
        }
    }

    /// <summary>jinja2's int filter: int(value, base) for strings, int(value) otherwise, then int(float(value)); null when both fail.</summary>
    private static object? ToInt(object? v, long @base)
    {
        switch (v)
        {
            case bool or long: return Py.AsLong(v);
            case double d:
                if (double.IsNaN(d) || double.IsInfinity(d)) return null;
                return (long)Math.Truncate(d);
            case string s:
            {
                string t = PyString.Strip(s, null, true, true);
                string digits = t.Replace("_", "");
                bool neg = digits.StartsWith('-');
                if (digits.StartsWith('-') || digits.StartsWith('+')) digits = digits[1..];
                long b = @base;
                if (b == 16 && digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) digits = digits[2..];
                else if (b == 8 && digits.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) digits = digits[2..];
                else if (b == 2 && digits.StartsWith("0b", StringComparison.OrdinalIgnoreCase)) digits = digits[2..];
                if (digits.Length > 0 && b is >= 2 and <= 36)
                {
                    long value = 0;
                    bool ok = true;
                    foreach (char c in digits)
                    {
                        int dv = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
                        if (dv >= b)
                        {
                            ok = false;
                            break;
                        }
                        value = value * b + dv;
                    }
                    if (ok) return neg ? -value : value;
                }
                var f = ToFloat(s);
                if (f is double fd && !double.IsNaN(fd) && !double.IsInfinity(fd)) return (long)Math.Truncate(fd);
                return null;
            }
            case Undefined u: throw u.Error();
            default: return null;
        }
    }
}
