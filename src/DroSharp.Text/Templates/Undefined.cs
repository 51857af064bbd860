namespace DroSharp.Text.Templates;

/// <summary>
/// Jinja2's default <c>Undefined</c>: prints as empty, is falsy, iterates as empty, has length 0, equals only
/// another Undefined; any other use (arithmetic, attribute or item access, call, ordering) raises UndefinedError
/// (or SecurityError for a blocked attribute) with Jinja2's message.
/// </summary>
internal sealed class Undefined
{
    private Undefined(string? hint, object? obj, bool hasObj, object? name, string errorType)
    {
        Hint = hint;
        Obj = obj;
        HasObj = hasObj;
        Name = name;
        ErrorType = errorType;
    }

    public string? Hint { get; }
    public object? Obj { get; }
    public bool HasObj { get; }
    public object? Name { get; }
    public string ErrorType { get; }

    /// <summary>A name that is not defined: <c>'x' is undefined</c>.</summary>
    public static Undefined ForName(string name) => new(null, null, false, name, "UndefinedError");

    /// <summary>A missing attribute or item of <paramref name="obj"/>.</summary>
    public static Undefined ForMember(object? obj, object? name) => new(null, obj, true, name, "UndefinedError");

    public static Undefined WithHint(string hint, string? name = null) => new(hint, null, false, name, "UndefinedError");

    /// <summary>Jinja2's <c>unsafe_undefined</c>: a sandbox-blocked attribute; using it raises SecurityError.</summary>
    public static Undefined Unsafe(object? obj, string attribute) =>
        new($"access to attribute '{attribute}' of '{Py.TypeName(obj)}' object is unsafe.", obj, true, attribute, "SecurityError");

    /// <summary>Jinja2's <c>Undefined._undefined_message</c>.</summary>
    public string Message
    {
        get
        {
            if (!string.IsNullOrEmpty(Hint)) return Hint;
            if (!HasObj) return $"{Py.Repr(Name)} is undefined";
            if (Name is not string s) return $"{Py.ObjectTypeRepr(Obj)} has no element {Py.Repr(Name)}";
            return $"{Py.Repr(Py.ObjectTypeRepr(Obj))} has no attribute {Py.Repr(s)}";
        }
    }

    public PyException Error() => new(ErrorType, Message);
}
