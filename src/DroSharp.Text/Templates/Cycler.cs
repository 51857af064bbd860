namespace DroSharp.Text.Templates;

/// <summary>Jinja2's <c>cycler(*items)</c>: <c>next()</c> returns the current item and advances; <c>current</c>, <c>reset()</c>.</summary>
internal sealed class Cycler(List<object?> items)
{
    private int _pos;

    public object? Attribute(string name) => name switch
    {
        "current" => items[_pos],
        "pos" => (long)_pos,
        "items" => new PyList(items),
        "next" => new BuiltinFunction("next", (_, a) =>
        {
            var rv = items[_pos];
            _pos = (_pos + 1) % items.Count;
            return rv;
        }, "method"),
        "reset" => new BuiltinFunction("reset", (_, _) =>
        {
            _pos = 0;
            return null;
        }, "method"),
        _ => Missing,
    };

    public static readonly object Missing = new();

    public override string ToString() => "<jinja2.utils.Cycler object>";
}
