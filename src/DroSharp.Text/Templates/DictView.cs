namespace DroSharp.Text.Templates;

/// <summary>The result of <c>dict.keys()</c>, <c>.values()</c> or <c>.items()</c>: iterable, sized, not subscriptable.</summary>
internal sealed class DictView
{
    public DictView(PyDict dict, string kind)
    {
        Dict = dict;
        Kind = kind;
    }

    public PyDict Dict { get; }

    /// <summary><c>dict_keys</c>, <c>dict_values</c> or <c>dict_items</c>.</summary>
    public string Kind { get; }

    public IEnumerable<object?> Enumerate() => Kind switch
    {
        "dict_keys" => Dict.Keys,
        "dict_values" => Dict.Values,
        _ => Dict.Items.Select(kv => (object?)PyList.Tuple(kv.Key, kv.Value)),
    };

    public override string ToString() => $"{Kind}({Py.Repr(new PyList(Enumerate().ToList()))})";
}
