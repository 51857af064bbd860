namespace DroSharp.Text.Templates;

/// <summary>
/// Jinja2's <c>loop</c> variable (runtime.LoopContext): index/index0/revindex/revindex0/first/last/length,
/// previtem/nextitem, depth/depth0, <c>cycle()</c>, <c>changed()</c>, and <c>loop(items)</c> in recursive loops.
/// Like Jinja2 it looks one item ahead only when <c>last</c>/<c>nextitem</c> is used, and computes
/// <c>length</c> of an unsized (filtered) iterable by consuming the rest of it.
/// </summary>
internal sealed class LoopContext
{
    private static readonly object MissingItem = new();

    private IEnumerator<object?> _iterator;
    private long? _length;
    private object? _after = MissingItem;
    private object? _current = MissingItem;
    private object? _before = MissingItem;
    private object? _lastChanged = MissingItem;

    public LoopContext(IEnumerable<object?> items, long? length, int depth0, Func<object?, string>? recurse)
    {
        _iterator = items.GetEnumerator();
        _length = length;
        Depth0 = depth0;
        Recurse = recurse;
    }

    public long Index0 { get; private set; } = -1;
    public int Depth0 { get; }
    public Func<object?, string>? Recurse { get; }

    public bool MoveNext(out object? item)
    {
        if (!ReferenceEquals(_after, MissingItem))
        {
            item = _after;
            _after = MissingItem;
        }
        else if (_iterator.MoveNext()) item = _iterator.Current;
        else
        {
            item = null;
            return false;
        }
        Index0++;
        _before = _current;
        _current = item;
        return true;
    }

    private object? PeekNext()
    {
        if (!ReferenceEquals(_after, MissingItem)) return _after;
        _after = _iterator.MoveNext() ? _iterator.Current : MissingItem;
        return _after;
    }

    public long Length
    {
        get
        {
            if (_length is long n) return n;
            var rest = new List<object?>();
            while (_iterator.MoveNext()) rest.Add(_iterator.Current);
            _iterator = rest.GetEnumerator();
            _length = rest.Count + Index0 + 1 + (ReferenceEquals(_after, MissingItem) ? 0 : 1);
            return _length.Value;
        }
    }

    public bool Last => ReferenceEquals(PeekNext(), MissingItem);

    public object? Attribute(string name) => name switch
    {
        "index0" => Index0,
        "index" => Index0 + 1,
        "revindex0" => Length - (Index0 + 1),
        "revindex" => Length - Index0,
        "first" => Index0 == 0,
        "last" => Last,
        "length" => Length,
        "depth0" => (long)Depth0,
        "depth" => (long)Depth0 + 1,
        "previtem" => Index0 == 0 ? Undefined.WithHint("there is no previous item") : _before,
        "nextitem" => ReferenceEquals(PeekNext(), MissingItem) ? Undefined.WithHint("there is no next item") : _after,
        "cycle" => new BuiltinFunction("cycle", (_, a) =>
        {
            a.NoKeywords("cycle");
            if (a.Positional.Count == 0) throw PyException.Type("no items for cycling given");
            return a.Positional[(int)(Index0 % a.Positional.Count)];
        }, "method"),
        "changed" => new BuiltinFunction("changed", (_, a) =>
        {
            var value = PyList.Tuple(a.Positional.ToArray());
            if (ReferenceEquals(_lastChanged, MissingItem) || !Py.Eq(_lastChanged, value))
            {
                _lastChanged = value;
                return true;
            }
            return false;
        }, "method"),
        _ => MissingItem,
    };

    public static bool IsMissing(object? v) => ReferenceEquals(v, MissingItem);

    public override string ToString() => $"<LoopContext {Index0 + 1}/{Length}>";
}
