using System.Globalization;
using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>
/// Python's <c>json.dumps</c> as transformers' <c>tojson</c> filter calls it: <c>ensure_ascii=False</c>, key order
/// kept, separators <c>", "</c>/<c>": "</c> (<c>","</c> between items when indenting), floats as Python's repr,
/// <c>NaN</c>/<c>Infinity</c>, tuples as arrays; other objects raise "Object of type X is not JSON serializable".
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, string? indent = null, string? itemSeparator = null, string? keySeparator = null,
        bool sortKeys = false, bool ensureAscii = false)
    {
        var w = new Writer(indent, itemSeparator ?? (indent == null ? ", " : ","), keySeparator ?? ": ", sortKeys, ensureAscii);
        w.Write(value, 0);
        return w.Sb.ToString();
    }

    private sealed class Writer(string? indent, string itemSep, string keySep, bool sortKeys, bool ensureAscii)
    {
        public readonly StringBuilder Sb = new();

        private void NewLine(int level)
        {
            Sb.Append('\n');
            for (int i = 0; i < level; i++) Sb.Append(indent);
        }

        public void Write(object? v, int level)
        {
            if (v is not (PyList or PyDict))
            {
                WriteValue(v, level);
                return;
            }
            // json.dumps(check_circular=True), as transformers' tojson calls it.
            if (!RecursionGuard.TryBegin(v)) throw new PyException("ValueError", "Circular reference detected");
            RecursionGuard.Enter("while encoding a JSON object");
            try { WriteValue(v, level); }
            finally
            {
                RecursionGuard.Exit();
                RecursionGuard.End(v);
            }
        }

        private void WriteValue(object? v, int level)
        {
            switch (v)
            {
                case null: Sb.Append("null"); return;
                case bool b: Sb.Append(b ? "true" : "false"); return;
                case long l: Sb.Append(l.ToString(CultureInfo.InvariantCulture)); return;
                case double d: Sb.Append(Float(d)); return;
                case string s: WriteString(s); return;
                case PyList list:
                    if (list.Count == 0)
                    {
                        Sb.Append("[]");
                        return;
                    }
                    Sb.Append('[');
                    for (int i = 0; i < list.Count; i++)
                    {
                        if (i > 0) Sb.Append(itemSep);
                        if (indent != null) NewLine(level + 1);
                        Write(list.Items[i], level + 1);
                    }
                    if (indent != null) NewLine(level);
                    Sb.Append(']');
                    return;
                case PyDict dict:
                {
                    if (dict.Count == 0)
                    {
                        Sb.Append("{}");
                        return;
                    }
                    IEnumerable<KeyValuePair<object?, object?>> items = dict.Items;
                    if (sortKeys)
                    {
                        var sorted = dict.Items.ToList();
                        MergeSort(sorted, (a, b) => Py.Compare(a.Key, b.Key));
                        items = sorted;
                    }
                    Sb.Append('{');
                    bool first = true;
                    foreach (var kv in items)
                    {
                        string key = kv.Key switch
                        {
                            string s => s,
                            double d => Float(d),
                            bool b => b ? "true" : "false",
                            long l => l.ToString(CultureInfo.InvariantCulture),
                            null => "null",
                            _ => throw PyException.Type($"keys must be str, int, float, bool or None, not {Py.TypeName(kv.Key)}"),
                        };
                        if (!first) Sb.Append(itemSep);
                        first = false;
                        if (indent != null) NewLine(level + 1);
                        WriteString(key);
                        Sb.Append(keySep);
                        Write(kv.Value, level + 1);
                    }
                    if (indent != null) NewLine(level);
                    Sb.Append('}');
                    return;
                }
                default:
                    throw PyException.Type($"Object of type {Py.TypeName(v)} is not JSON serializable");
            }
        }

        private static string Float(double d) =>
            double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyFloat.Repr(d);

        private void WriteString(string s)
        {
            Sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': Sb.Append("\\\""); break;
                    case '\\': Sb.Append("\\\\"); break;
                    case '\n': Sb.Append("\\n"); break;
                    case '\r': Sb.Append("\\r"); break;
                    case '\t': Sb.Append("\\t"); break;
                    case '\b': Sb.Append("\\b"); break;
                    case '\f': Sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (ensureAscii && c > 0x7E)) Sb.Append("\\u").Append(((int)c).ToString("x4"));
                        else Sb.Append(c);
                        break;
                }
            }
            Sb.Append('"');
        }
    }

    /// <summary>A stable sort (Python's sorted is stable; List.Sort is not).</summary>
    public static void MergeSort<T>(List<T> list, Comparison<T> cmp)
    {
        if (list.Count < 2) return;
        var tmp = new T[list.Count];
        var arr = list.ToArray();
        Sort(arr, tmp, 0, arr.Length, cmp);
        for (int i = 0; i < arr.Length; i++) list[i] = arr[i];
    }

    private static void Sort<T>(T[] a, T[] tmp, int lo, int hi, Comparison<T> cmp)
    {
        if (hi - lo < 2) return;
        int mid = (lo + hi) / 2;
        Sort(a, tmp, lo, mid, cmp);
        Sort(a, tmp, mid, hi, cmp);
        int i = lo, j = mid, k = lo;
        while (i < mid && j < hi) tmp[k++] = cmp(a[j], a[i]) < 0 ? a[j++] : a[i++];
        while (i < mid) tmp[k++] = a[i++];
        while (j < hi) tmp[k++] = a[j++];
        Array.Copy(tmp, lo, a, lo, hi - lo);
    }
}
