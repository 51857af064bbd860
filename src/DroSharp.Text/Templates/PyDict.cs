namespace DroSharp.Text.Templates;

/// <summary>
/// A Python <c>dict</c>: insertion-ordered, keys compared with Python equality and hash (<c>1 == 1.0 == True</c>).
/// </summary>
internal sealed class PyDict
{
    private readonly List<KeyValuePair<object?, object?>> _items = new();
    private readonly Dictionary<PyKey, int> _index = new();

    public int Count => _items.Count;
    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;
    public IEnumerable<object?> Keys => _items.Select(kv => kv.Key);
    public IEnumerable<object?> Values => _items.Select(kv => kv.Value);

    /// <summary><c>d[key] = value</c>: replaces the value in place when the key exists (order kept), else appends.</summary>
    public void Set(object? key, object? value)
    {
        var k = new PyKey(key);
        if (_index.TryGetValue(k, out int i)) _items[i] = new(_items[i].Key, value);
        else
        {
            _index[k] = _items.Count;
            _items.Add(new(key, value));
        }
    }

    public bool TryGet(object? key, out object? value)
    {
        if (_index.TryGetValue(new PyKey(key), out int i))
        {
            value = _items[i].Value;
            return true;
        }
        value = null;
        return false;
    }

    public bool ContainsKey(object? key) => _index.ContainsKey(new PyKey(key));

    public PyDict Copy()
    {
        var d = new PyDict();
        foreach (var kv in _items) d.Set(kv.Key, kv.Value);
        return d;
    }

    /// <summary>A key wrapper that hashes and compares like Python (unhashable keys raise TypeError).</summary>
    private readonly struct PyKey : IEquatable<PyKey>
    {
        private readonly object? _value;
        private readonly int _hash;

        public PyKey(object? value)
        {
            _value = value;
            _hash = Py.Hash(value);
        }

        public bool Equals(PyKey other) => _hash == other._hash && Py.Eq(_value, other._value);
        public override bool Equals(object? obj) => obj is PyKey k && Equals(k);
        public override int GetHashCode() => _hash;
    }
}
