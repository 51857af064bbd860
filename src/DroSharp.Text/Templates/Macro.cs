namespace DroSharp.Text.Templates;

/// <summary>
/// A <c>{% macro %}</c> (or the <c>caller</c> of a <c>{% call %}</c> block), bound to the scope it was defined
/// in; calling it binds arguments as Jinja2's <c>Macro.__call__</c> does and renders the body to a string.
/// </summary>
internal sealed class Macro(MacroLike node, Frame closure, string name) : PyCallable
{
    public MacroLike Node { get; } = node;
    public Frame Closure { get; } = closure;
    public override string Name { get; } = name;
    public override string TypeName => "Macro";

    public override object? Call(Interpreter interpreter, CallArgs args) => interpreter.InvokeMacro(this, args);

    public override string ToString() => $"<Macro {PyString.Repr(Name)}>";
}
