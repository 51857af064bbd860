using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DroSharp.Text.Templates;

/// <summary>
/// Python's object semantics for template values. Values are: <c>null</c> (None), <see cref="bool"/>,
/// <see cref="long"/> (int), <see cref="double"/> (float), <see cref="string"/> (str), <see cref="PyList"/>
/// (list/tuple), <see cref="PyDict"/>, <see cref="Undefined"/>, <see cref="PyCallable"/>, <see cref="Namespace"/>,
/// <see cref="LoopContext"/>, <see cref="PyRange"/>, <see cref="PyIterator"/>, <see cref="DictView"/>,
/// <see cref="Cycler"/>.
/// </summary>
internal static class Py
{
    // ---- type information ----

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyList l => l.IsTuple ? "tuple" : "list",
        PyDict => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        PyCallable c => c.TypeName,
        PyRange => "range",
        PyIterator it => it.TypeName,
        DictView dv => dv.Kind,
        Cycler => "Cycler",
        _ => v.GetType().Name,
    };

    /// <summary>Jinja2's <c>object_type_repr</c>: "None", "dict object", "jinja2.utils.Namespace object".</summary>
    public static string ObjectTypeRepr(object? obj) => obj switch
    {
        null => "None",
        Namespace => "jinja2.utils.Namespace object",
        Cycler => "jinja2.utils.Cycler object",
        LoopContext => "jinja2.runtime.LoopContext object",
        Undefined => "jinja2.runtime.Undefined object",
        Macro => "jinja2.runtime.Macro object",
        _ => TypeName(obj) + " object",
    };

    public static bool IsInt(object? v) => v is long or bool;
    public static bool IsNumber(object? v) => v is long or bool or double;
    public static long AsLong(object? v) => v is bool b ? (b ? 1 : 0) : (long)v!;
    public static double AsDouble(object? v) => v switch { bool b => b ? 1 : 0, long l => l, _ => (double)v! };

    // ---- truthiness, str, repr ----

    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        PyList l => l.Count > 0,
        PyDict d => d.Count > 0,
        Undefined => false,
        PyRange r => r.Count > 0,
        DictView dv => dv.Dict.Count > 0,
        LoopContext lc => lc.Length > 0,
        _ => true,
    };

    public static string Str(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PyFloat.Repr(d),
        string s => s,
        Undefined => "",
        PyList or PyDict => Repr(v),
        _ => v.ToString() ?? "",
    };

    public static string Repr(object? v)
    {
        if (v is not (PyList or PyDict)) return ReprOf(v);
        // Python prints a container inside itself as [...] or {...}.
        if (!RecursionGuard.TryBegin(v)) return v is PyList { IsTuple: true } ? "(...)" : v is PyList ? "[...]" : "{...}";
        RecursionGuard.Enter("while getting the repr of an object");
        try { return ReprOf(v); }
        finally
        {
            RecursionGuard.Exit();
            RecursionGuard.End(v);
        }
    }

    private static string ReprOf(object? v)
    {
        switch (v)
        {
            case string s: return PyString.Repr(s);
            case Undefined: return "Undefined";
            case PyList l:
            {
                var sb = new StringBuilder();
                sb.Append(l.IsTuple ? '(' : '[');
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    sb.Append(Repr(l.Items[i]));
                }
                if (l.IsTuple && l.Count == 1) sb.Append(',');
                sb.Append(l.IsTuple ? ')' : ']');
                return sb.ToString();
            }
            case PyDict d:
            {
                var sb = new StringBuilder("{");
                bool first = true;
                foreach (var kv in d.Items)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(Repr(kv.Key)).Append(": ").Append(Repr(kv.Value));
                }
                return sb.Append('}').ToString();
            }
            default: return Str(v);
        }
    }

    // ---- equality and hashing ----

    public static bool Eq(object? a, object? b)
    {
        if (ReferenceEquals(a, b)) return true;
        switch (a)
        {
            case null: return b == null;
            case Undefined: return b is Undefined;
            case string s: return b is string t && s == t;
            case bool or long or double:
                if (!IsNumber(b)) return false;
                if (IsInt(a) && IsInt(b)) return AsLong(a) == AsLong(b);
                return NumEq(a, b!);
            case PyList or PyDict:
                RecursionGuard.Enter("in comparison");
                try { return ContainerEq(a, b); }
                finally { RecursionGuard.Exit(); }
            case PyRange r:
                return b is PyRange q && r.Count == q.Count && (r.Count == 0 || (r.Start == q.Start && (r.Count == 1 || r.Step == q.Step)));
            default: return false;
        }
    }

    private static bool ContainerEq(object a, object? b)
    {
        if (a is PyList l)
        {
            if (b is not PyList m || m.IsTuple != l.IsTuple || m.Count != l.Count) return false;
            for (int i = 0; i < l.Count; i++)
                if (!Eq(l.Items[i], m.Items[i])) return false;
            return true;
        }
        var d = (PyDict)a;
        if (b is not PyDict e || e.Count != d.Count) return false;
        foreach (var kv in d.Items)
            if (!e.TryGet(kv.Key, out var other) || !Eq(kv.Value, other)) return false;
        return true;
    }

    private static bool NumEq(object a, object b)
    {
        if (a is double x && b is double y) return x == y;
        if (a is double d) return DoubleEqualsLong(d, AsLong(b));
        return DoubleEqualsLong((double)b, AsLong(a));
    }

    private static bool DoubleEqualsLong(double d, long l)
    {
        if (double.IsNaN(d) || double.IsInfinity(d) || Math.Floor(d) != d) return false;
        if (d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) return false;
        return (long)d == l;
    }

    public static int Hash(object? v)
    {
        switch (v)
        {
            case null: return 0x5F3759DF;
            case bool b: return b ? 1 : 0;
            case long l: return l.GetHashCode();
            case double d:
                if (Math.Floor(d) == d && d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) return ((long)d).GetHashCode();
                return d.GetHashCode();
            case string s: return StringComparer.Ordinal.GetHashCode(s);
            case PyList l when l.IsTuple:
            {
                var h = new HashCode();
                foreach (var x in l.Items) h.Add(Hash(x));
                return h.ToHashCode();
            }
            case PyList or PyDict or DictView or Namespace:
                throw PyException.Type($"unhashable type: '{TypeName(v)}'");
            case Undefined: return 0x0DEF;
            default: return RuntimeHelpers.GetHashCode(v);
        }
    }

    // ---- ordering ----

    /// <summary>Python's <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>.</summary>
    public static bool Order(string op, object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Error();
        if (b is Undefined ub) throw ub.Error();
        int c = Compare(a, b, op);
        return op switch { "<" => c < 0, "<=" => c <= 0, ">" => c > 0, _ => c >= 0 };
    }

    /// <summary>Three-way comparison for ordering (sorting, min/max); TypeError for unorderable types.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b)) return AsLong(a).CompareTo(AsLong(b));
            double x = AsDouble(a), y = AsDouble(b);
            if (double.IsNaN(x) || double.IsNaN(y)) return op is "<" or "<=" ? 1 : -1; // every comparison with NaN is false
            return x.CompareTo(y);
        }
        if (a is string s && b is string t) return PyString.CompareCodePoints(s, t);
        if (a is PyList l && b is PyList m && l.IsTuple == m.IsTuple)
        {
            int n = Math.Min(l.Count, m.Count);
            for (int i = 0; i < n; i++)
            {
                if (Eq(l.Items[i], m.Items[i])) continue;
                return Compare(l.Items[i], m.Items[i], op);
            }
            return l.Count.CompareTo(m.Count);
        }
        throw PyException.Type($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    // ---- arithmetic ----

    private static PyException Unsupported(string op, object? a, object? b) =>
        PyException.Type($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");

    private static void FailUndefined(object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Error();
        if (b is Undefined ub) throw ub.Error();
    }

    public static object? Add(object? a, object? b)
    {
        FailUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b)) return Checked(() => checked(AsLong(a) + AsLong(b)));
            return AsDouble(a) + AsDouble(b);
        }
        if (a is string s)
        {
            if (b is string t) return s + t;
            throw PyException.Type($"can only concatenate str (not \"{TypeName(b)}\") to str");
        }
        if (a is PyList l)
        {
            if (b is PyList m && m.IsTuple == l.IsTuple)
            {
                var items = new List<object?>(l.Items);
                items.AddRange(m.Items);
                return new PyList(items, l.IsTuple);
            }
            throw PyException.Type($"can only concatenate {TypeName(a)} (not \"{TypeName(b)}\") to {TypeName(a)}");
        }
        throw Unsupported("+", a, b);
    }

    public static object? Sub(object? a, object? b)
    {
        FailUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b)) return Checked(() => checked(AsLong(a) - AsLong(b)));
            return AsDouble(a) - AsDouble(b);
        }
        throw Unsupported("-", a, b);
    }

    public static object? Mul(object? a, object? b)
    {
        FailUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b)) return Checked(() => checked(AsLong(a) * AsLong(b)));
            return AsDouble(a) * AsDouble(b);
        }
        if (IsInt(a) && (b is string || b is PyList)) (a, b) = (b, a);
        if (a is string s && IsInt(b))
        {
            long n = AsLong(b);
            if (n <= 0 || s.Length == 0) return "";
            if (n * s.Length > 100_000_000) throw new PyException("MemoryError", "repeated string is too long");
            return new StringBuilder(s.Length * (int)n).Insert(0, s, (int)n).ToString();
        }
        if (a is PyList l && IsInt(b))
        {
            long n = AsLong(b);
            var items = new List<object?>();
            for (long i = 0; i < n; i++) items.AddRange(l.Items);
            return new PyList(items, l.IsTuple);
        }
        if (a is string || a is PyList)
            throw PyException.Type($"can't multiply sequence by non-int of type '{TypeName(b)}'");
        throw Unsupported("*", a, b);
    }

    public static object? TrueDiv(object? a, object? b)
    {
        FailUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
        {
            double y = AsDouble(b);
            if (y == 0) throw new PyException("ZeroDivisionError", a is double || b is double ? "float division by zero" : "division by zero");
            return AsDouble(a) / y;
        }
        throw Unsupported("/", a, b);
    }

    public static object? FloorDiv(object? a, object? b)
    {
        FailUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b))
            {
                long x = AsLong(a), y = AsLong(b);
                if (y == 0) throw new PyException("ZeroDivisionError", "integer division or modulo by zero");
                if (x == long.MinValue && y == -1) throw new PyException("OverflowError", "integer overflow");
                long q = x / y;
                if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
                return q;
            }
            double p = AsDouble(a), r = AsDouble(b);
            if (r == 0) throw new PyException("ZeroDivisionError", "float floor division by zero");
            return FloatDivMod(p, r).Div;
        }
        throw Unsupported("//", a, b);
    }

    public static object? Mod(object? a, object? b)
    {
        FailUndefined(a, b);
        if (a is string s) return PyFormat.Percent(s, b);
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b))
            {
                long x = AsLong(a), y = AsLong(b);
                if (y == 0) throw new PyException("ZeroDivisionError", "integer division or modulo by zero");
                if (y == -1) return 0L;
                long m = x % y;
                if (m != 0 && ((m < 0) != (y < 0))) m += y;
                return m;
            }
            double p = AsDouble(a), r = AsDouble(b);
            if (r == 0) throw new PyException("ZeroDivisionError", "float modulo");
            return FloatMod(p, r);
        }
        throw Unsupported("%", a, b);
    }

    private static double FloatMod(double p, double r) => FloatDivMod(p, r).Mod;

    /// <summary>CPython's <c>_float_div_mod</c>: floor quotient and modulo with the divisor's sign.</summary>
    private static (double Div, double Mod) FloatDivMod(double vx, double wx)
    {
        double mod = vx % wx;
        double div = (vx - mod) / wx;
        if (mod != 0)
        {
            if ((wx < 0) != (mod < 0))
            {
                mod += wx;
                div -= 1.0;
            }
        }
        else mod = Math.CopySign(0.0, wx);
        double floordiv;
        if (div != 0)
        {
            floordiv = Math.Floor(div);
            if (div - floordiv > 0.5) floordiv += 1.0;
        }
        else floordiv = Math.CopySign(0.0, vx / wx);
        return (floordiv, mod);
    }

    public static object? Pow(object? a, object? b)
    {
        FailUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInt(a) && IsInt(b))
            {
                long x = AsLong(a), y = AsLong(b);
                if (y < 0)
                {
                    if (x == 0) throw new PyException("ZeroDivisionError", "0.0 cannot be raised to a negative power");
                    return Math.Pow(x, y);
                }
                return Checked(() =>
                {
                    long result = 1, bas = x, e = y;
                    while (e > 0)
                    {
                        if ((e & 1) != 0) result = checked(result * bas);
                        e >>= 1;
                        if (e > 0) bas = checked(bas * bas);
                    }
                    return result;
                });
            }
            double p = AsDouble(a), q = AsDouble(b);
            if (p == 0 && q < 0) throw new PyException("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            return Math.Pow(p, q);
        }
        throw Unsupported("** or pow()", a, b);
    }

    public static object? Neg(object? a)
    {
        if (a is Undefined u) throw u.Error();
        if (a is double d) return -d;
        if (IsInt(a)) return Checked(() => checked(-AsLong(a)));
        throw PyException.Type($"bad operand type for unary -: '{TypeName(a)}'");
    }

    public static object? Pos(object? a)
    {
        if (a is Undefined u) throw u.Error();
        if (a is double) return a;
        if (IsInt(a)) return AsLong(a);
        throw PyException.Type($"bad operand type for unary +: '{TypeName(a)}'");
    }

    private static long Checked(Func<long> f)
    {
        try { return f(); }
        catch (OverflowException) { throw new PyException("OverflowError", "integer result does not fit in 64 bits (DroSharp's template ints are 64-bit)"); }
    }

    // ---- containers ----

    /// <summary>Python <c>iter(v)</c>.</summary>
    public static IEnumerable<object?> Iterate(object? v) => v switch
    {
        PyList l => l.Items,
        string s => PyString.Iterate(s),
        PyDict d => d.Keys,
        DictView dv => dv.Enumerate(),
        PyRange r => r.Enumerate(),
        PyIterator it => it.Consume(),
        Undefined => [],
        _ => throw PyException.Type($"'{TypeName(v)}' object is not iterable"),
    };

    public static bool IsIterable(object? v) => v is PyList or string or PyDict or DictView or PyRange or PyIterator or Undefined or LoopContext;

    /// <summary>Python <c>list(v)</c> as a .NET list.</summary>
    public static List<object?> ToList(object? v) => v is LoopContext ? throw PyException.Type("'LoopContext' object is not iterable") : Iterate(v).ToList();

    /// <summary>Python <c>len(v)</c>.</summary>
    public static long Len(object? v) => v switch
    {
        string s => PyString.Length(s),
        PyList l => l.Count,
        PyDict d => d.Count,
        DictView dv => dv.Dict.Count,
        PyRange r => r.Count,
        Undefined => 0,
        LoopContext lc => lc.Length,
        _ => throw PyException.Type($"object of type '{TypeName(v)}' has no len()"),
    };

    public static bool HasLen(object? v) => v is string or PyList or PyDict or DictView or PyRange or Undefined or LoopContext;

    /// <summary>Python <c>item in container</c>.</summary>
    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is string t) return s.Contains(t, StringComparison.Ordinal);
                if (item is Undefined u) throw u.Error();
                throw PyException.Type($"'in <string>' requires string as left operand, not {TypeName(item)}");
            case PyDict d: return d.ContainsKey(item);
            case DictView { Kind: "dict_keys" } dv: return dv.Dict.ContainsKey(item);
            case PyRange r:
                if (!IsNumber(item)) return false;
                foreach (var x in r.Enumerate()) if (Eq(x, item)) return true;
                return false;
            case PyList or DictView or PyIterator or Undefined:
                foreach (var x in Iterate(container))
                    if (Eq(item, x)) return true;
                return false;
            default:
                throw PyException.Type($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    /// <summary>
    /// Python <c>obj[key]</c> for Jinja2's <c>getitem</c>: true with the value when found; false on KeyError,
    /// IndexError or TypeError (Jinja2 then tries an attribute); UndefinedError propagates.
    /// </summary>
    public static bool TryIndex(object? obj, object? key, out object? value)
    {
        value = null;
        switch (obj)
        {
            case Undefined u: throw u.Error();
            case PyDict d:
                try { return d.TryGet(key, out value); }
                catch (PyException) { return false; } // unhashable key: TypeError
            case PyList l:
                if (!IsInt(key)) return false;
                return TryIndexSeq(l.Count, AsLong(key), i => l.Items[i], out value);
            case string s:
                if (!IsInt(key)) return false;
                if (!PyString.HasSurrogates(s)) return TryIndexSeq(s.Length, AsLong(key), i => s[i].ToString(), out value);
                int[] cps = PyString.CodePoints(s);
                return TryIndexSeq(cps.Length, AsLong(key), i => PyString.CodePointString(cps[i]), out value);
            case PyRange r:
                if (!IsInt(key)) return false;
                long k = AsLong(key);
                if (k < 0) k += r.Count;
                if (k < 0 || k >= r.Count) return false;
                value = r[k];
                return true;
            default: return false;
        }
    }

    private static bool TryIndexSeq(int count, long index, Func<int, object?> get, out object? value)
    {
        if (index < 0) index += count;
        if (index < 0 || index >= count)
        {
            value = null;
            return false;
        }
        value = get((int)index);
        return true;
    }

    /// <summary>Python <c>obj[start:stop:step]</c> (Jinja2 evaluates slices directly, not through getitem).</summary>
    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        if (obj is Undefined u) throw u.Error();
        long? Idx(object? x) => x switch
        {
            null => null,
            bool or long => AsLong(x),
            Undefined ux => throw ux.Error(),
            _ => throw PyException.Type("slice indices must be integers or None or have an __index__ method"),
        };
        long? a = Idx(start), b = Idx(stop), c = Idx(step);
        long st = c ?? 1;
        if (st == 0) throw PyException.Value("slice step cannot be zero");
        switch (obj)
        {
            case PyList l: return new PyList(SliceIndices(l.Count, a, b, st).Select(i => l.Items[i]).ToList(), l.IsTuple);
            case string s:
                if (!PyString.HasSurrogates(s))
                {
                    if (st == 1)
                    {
                        long lo = a == null ? 0 : Adjust(a, s.Length, 0, s.Length), hi = b == null ? s.Length : Adjust(b, s.Length, 0, s.Length);
                        return hi > lo ? s[(int)lo..(int)hi] : "";
                    }
                    var sb = new StringBuilder();
                    foreach (int i in SliceIndices(s.Length, a, b, st)) sb.Append(s[i]);
                    return sb.ToString();
                }
                int[] cps = PyString.CodePoints(s);
                return PyString.FromCodePoints(SliceIndices(cps.Length, a, b, st).Select(i => cps[i]));
            case PyRange r: return new PyList(SliceIndices((int)r.Count, a, b, st).Select(i => (object?)r[i]).ToList());
            case null: throw PyException.Type("'NoneType' object is not subscriptable");
            case PyDict: throw PyException.Type("unhashable type: 'slice'");
            default: throw PyException.Type($"'{TypeName(obj)}' object is not subscriptable");
        }
    }

    private static long Adjust(long? x, long len, long lower, long upper)
    {
        if (x is not long v) return lower;
        if (v < 0)
        {
            v += len;
            if (v < lower) v = lower;
        }
        else if (v > upper) v = upper;
        return v;
    }

    /// <summary>Indices selected by a slice (CPython's PySlice_AdjustIndices).</summary>
    public static IEnumerable<int> SliceIndices(int len, long? start, long? stop, long step)
    {
        long lower = step < 0 ? -1 : 0, upper = step < 0 ? len - 1 : len;
        long a, b;
        if (start is long s0)
        {
            a = s0 < 0 ? Math.Max(s0 + len, lower) : Math.Min(s0, upper);
        }
        else a = step < 0 ? upper : lower;
        if (stop is long e0)
        {
            b = e0 < 0 ? Math.Max(e0 + len, lower) : Math.Min(e0, upper);
        }
        else b = step < 0 ? lower : upper;
        if (step > 0) for (long i = a; i < b; i += step) yield return (int)i;
        else for (long i = a; i > b; i += step) yield return (int)i;
    }

    // ---- conversion from .NET values ----

    /// <summary>
    /// Converts a .NET value to a template value: null, bool, integers, floating point, strings, chars,
    /// <see cref="JsonElement"/>, <see cref="JsonNode"/>, <see cref="ChatMessage"/>, dictionaries with string keys,
    /// other enumerables (lists); template values pass through.
    /// </summary>
    public static object? FromClr(object? v)
    {
        switch (v)
        {
            case null: return null;
            case bool or long or double or string or PyList or PyDict or Undefined or PyCallable or Namespace or PyRange: return v;
            case int i: return (long)i;
            case short s: return (long)s;
            case byte b: return (long)b;
            case sbyte sb: return (long)sb;
            case uint ui: return (long)ui;
            case ushort us: return (long)us;
            case ulong ul: return ul <= long.MaxValue ? (long)ul : (double)ul;
            case float f: return (double)f;
            case decimal m: return (double)m;
            case char c: return c.ToString();
            case JsonElement e: return FromJson(e);
            case JsonNode n: return FromJsonNode(n);
            case ChatMessage m: return m.ToPyDict();
            case IEnumerable<KeyValuePair<string, object?>> kvs:
            {
                var d = new PyDict();
                foreach (var kv in kvs) d.Set(kv.Key, FromClr(kv.Value));
                return d;
            }
            case IDictionary dict:
            {
                var d = new PyDict();
                foreach (DictionaryEntry kv in dict) d.Set(FromClr(kv.Key), FromClr(kv.Value));
                return d;
            }
            case IEnumerable seq:
            {
                var items = new List<object?>();
                foreach (var x in seq) items.Add(FromClr(x));
                return new PyList(items);
            }
            default:
                throw new ArgumentException($"a chat template variable cannot be a {v.GetType().Name}: use null, bool, numbers, strings, lists, dictionaries or JSON");
        }
    }

    /// <summary>JSON → template value as Python's <c>json.loads</c> gives it (numbers with '.', 'e' or 'E' are floats).</summary>
    public static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Null: return null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
            {
                string raw = e.GetRawText();
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && e.TryGetInt64(out long l)) return l;
                return e.GetDouble();
            }
            case JsonValueKind.Array: return new PyList(e.EnumerateArray().Select(FromJson).ToList());
            case JsonValueKind.Object:
            {
                var d = new PyDict();
                foreach (var p in e.EnumerateObject()) d.Set(p.Name, FromJson(p.Value));
                return d;
            }
            default: return Undefined.ForName("?");
        }
    }

    public static object? FromJsonNode(JsonNode? n)
    {
        switch (n)
        {
            case null: return null;
            case JsonObject o:
            {
                var d = new PyDict();
                foreach (var (k, v) in o) d.Set(k, FromJsonNode(v));
                return d;
            }
            case JsonArray a: return new PyList(a.Select(FromJsonNode).ToList());
            default:
            {
                using var doc = JsonDocument.Parse(n.ToJsonString());
                return FromJson(doc.RootElement);
            }
        }
    }
}
