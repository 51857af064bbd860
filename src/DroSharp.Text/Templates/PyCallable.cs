namespace DroSharp.Text.Templates;

/// <summary>Something a template can call: a macro, a global function, a bound method, <c>loop</c> (recursive), a joiner.</summary>
internal abstract class PyCallable
{
    public abstract string Name { get; }

    /// <summary>Python type name used in messages and <c>repr</c>.</summary>
    public virtual string TypeName => "builtin_function_or_method";

    public abstract object? Call(Interpreter interpreter, CallArgs args);

    public override string ToString() => $"<built-in function {Name}>";
}

/// <summary>A global function or a bound method implemented in C#.</summary>
internal sealed class BuiltinFunction : PyCallable
{
    private readonly Func<Interpreter, CallArgs, object?> _body;

    public BuiltinFunction(string name, Func<Interpreter, CallArgs, object?> body, string typeName = "builtin_function_or_method", string? display = null)
    {
        Name = name;
        _body = body;
        TypeName = typeName;
        _display = display;
    }

    private readonly string? _display;
    public override string Name { get; }
    public override string TypeName { get; }
    public override object? Call(Interpreter interpreter, CallArgs args) => _body(interpreter, args);
    public override string ToString() => _display ?? base.ToString();
}
