namespace DroSharp.Text.Templates;

/// <summary>
/// A Python-level error raised while rendering (TypeError, UndefinedError, …): <see cref="PyType"/> is the
/// Python exception class name, <see cref="Exception.Message"/> Python's message. The interpreter attaches the
/// position of the innermost template expression that raised it and turns it into a <see cref="ChatTemplateException"/>.
/// </summary>
internal sealed class PyException : Exception
{
    public PyException(string pyType, string message) : base(message) => PyType = pyType;

    public string PyType { get; }

    /// <summary>True for <c>raise_exception(msg)</c>: the message is passed on unchanged.</summary>
    public bool RaisedByTemplate { get; init; }

    public int Line { get; set; }
    public int Column { get; set; }
    public bool HasPosition => Line > 0;

    public static PyException Type(string message) => new("TypeError", message);
    public static PyException Value(string message) => new("ValueError", message);
    public static PyException Runtime(string message) => new("TemplateRuntimeError", message);
}
