namespace DroSharp.Text.Templates;

internal enum TokenKind
{
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    Eof,
}

/// <summary>A lexer token: <see cref="Text"/> is the name, operator or data; <see cref="Value"/> the decoded string or number.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, object? Value, int Line, int Column)
{
    public bool IsOp(string op) => Kind == TokenKind.Operator && Text == op;
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    /// <summary>Jinja2's <c>describe_token</c>.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.Name or TokenKind.Operator => Text,
        TokenKind.String => "string",
        TokenKind.Integer => "integer",
        TokenKind.Float => "float",
        TokenKind.Data => "template data / text",
        TokenKind.BlockBegin => "begin of statement block",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.VariableBegin => "begin of print statement",
        TokenKind.VariableEnd => "end of print statement",
        _ => "end of template",
    };
}
