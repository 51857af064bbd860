namespace DroSharp.Text.Templates;

/// <summary>
/// A chat template failed to parse or to render. For the template's own <c>raise_exception(msg)</c>,
/// <see cref="Exception.Message"/> is exactly <c>msg</c> (as transformers raises it) and
/// <see cref="RaisedByTemplate"/> is true; otherwise the message names the template, line and column and the
/// Python error class, e.g. <c>chat template line 3, column 14: TypeError: can only concatenate str (not "int") to str</c>.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    internal ChatTemplateException(string message, string errorType, int line, int column, bool raisedByTemplate, Exception? inner = null)
        : base(message, inner)
    {
        ErrorType = errorType;
        Line = line;
        Column = column;
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>Jinja2/Python error class: TemplateSyntaxError, UndefinedError, TypeError, TemplateError (raise_exception), …</summary>
    public string ErrorType { get; }

    /// <summary>1-based template line of the failing construct (0 when unknown).</summary>
    public int Line { get; }

    /// <summary>1-based column in that line (0 when unknown).</summary>
    public int Column { get; }

    /// <summary>True when the template called <c>raise_exception(msg)</c>; the message is then exactly <c>msg</c>.</summary>
    public bool RaisedByTemplate { get; }

    internal static ChatTemplateException From(PyException e, string sourceName)
    {
        if (e.RaisedByTemplate) return new ChatTemplateException(e.Message, e.PyType, e.Line, e.Column, true, e);
        string where = e.HasPosition ? $"{sourceName} line {e.Line}, column {e.Column}" : sourceName;
        return new ChatTemplateException($"{where}: {e.PyType}: {e.Message}", e.PyType, e.Line, e.Column, false, e);
    }
}
