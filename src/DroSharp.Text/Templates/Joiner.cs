namespace DroSharp.Text.Templates;

/// <summary>Jinja2's <c>joiner(sep=", ")</c>: returns "" the first time it is called, then the separator.</summary>
internal sealed class Joiner(string separator) : PyCallable
{
    private bool _used;

    public override string Name => "joiner";
    public override string TypeName => "Joiner";

    public override object? Call(Interpreter interpreter, CallArgs args)
    {
        if (!_used)
        {
            _used = true;
            return "";
        }
        return separator;
    }

    public override string ToString() => "<jinja2.utils.Joiner object>";
}
