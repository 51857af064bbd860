namespace DroSharp.Text.Templates;

/// <summary>
/// Jinja2's parser (jinja2/parser.py) for the statements chat templates use: <c>if/elif/else</c>, <c>for</c>
/// (with <c>else</c>, a filter <c>if</c>, <c>recursive</c>), <c>set</c> (also block and namespace-attribute
/// form), <c>macro</c>, <c>call</c>, <c>filter</c>, <c>with</c>, <c>print</c>, <c>break</c>/<c>continue</c>
/// (loopcontrols) and transformers' <c>generation</c> tag. Template inheritance and includes are rejected.
/// </summary>
internal sealed class TemplateParser
{
    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", "<=", ">", ">="];
    private static readonly HashSet<string> Unsupported = ["block", "extends", "include", "import", "from", "autoescape"];

    private readonly List<Token> _tokens;
    private int _pos;
    private readonly List<string> _tagStack = new();
    private readonly List<string[]> _endTokenStack = new();
    private int _loopDepth;
    private int _nesting;

    /// <summary>Deeper nesting than this is refused (Python would hit its recursion limit; we would overflow the stack).</summary>
    private const int MaxNesting = 200;

    private void Nest()
    {
        if (++_nesting > MaxNesting) throw Fail($"the template nests expressions or blocks more than {MaxNesting} levels deep");
    }

    private TemplateParser(List<Token> tokens) => _tokens = tokens;

    public static TemplateNode Parse(string source)
    {
        var parser = new TemplateParser(TemplateLexer.Tokenize(source));
        var body = parser.Subparse(null);
        var template = new TemplateNode(body) { Line = 1, Column = 1 };
        ScopeAnalyzer.Analyze(template);
        return template;
    }

    // ---- token stream ----

    private Token Current => _tokens[_pos];
    private Token Look => _pos + 1 < _tokens.Count ? _tokens[_pos + 1] : _tokens[^1];

    private Token Next()
    {
        var t = _tokens[_pos];
        if (_pos < _tokens.Count - 1) _pos++;
        return t;
    }

    private PyException Fail(string message, Token? at = null)
    {
        var t = at ?? Current;
        return new PyException("TemplateSyntaxError", message) { Line = t.Line, Column = t.Column };
    }

    private static string Describe(string expr) => expr switch
    {
        "name" => "name",
        "block_end" => "end of statement block",
        "variable_end" => "end of print statement",
        _ => expr.StartsWith("name:", StringComparison.Ordinal) ? expr[5..] : expr,
    };

    private bool Test(Token t, string expr) => expr switch
    {
        "name" => t.Kind == TokenKind.Name,
        "block_end" => t.Kind == TokenKind.BlockEnd,
        "variable_end" => t.Kind == TokenKind.VariableEnd,
        "string" => t.Kind == TokenKind.String,
        _ when expr.StartsWith("name:", StringComparison.Ordinal) => t.IsName(expr[5..]),
        _ => t.IsOp(expr),
    };

    private Token Expect(string expr)
    {
        if (!Test(Current, expr))
        {
            if (Current.Kind == TokenKind.Eof) throw Fail($"unexpected end of template, expected {PyString.Repr(Describe(expr))}.");
            throw Fail($"expected token {PyString.Repr(Describe(expr))}, got {PyString.Repr(Current.Describe())}");
        }
        return Next();
    }

    private bool SkipIf(string expr)
    {
        if (!Test(Current, expr)) return false;
        Next();
        return true;
    }

    private bool TestAny(Token t, string[] exprs) => exprs.Any(e => Test(t, e));

    // ---- templates and statements ----

    private List<Stmt> Subparse(string[]? endTokens)
    {
        var body = new List<Stmt>();
        if (endTokens != null) _endTokenStack.Add(endTokens);
        try
        {
            while (Current.Kind != TokenKind.Eof)
            {
                var token = Current;
                if (token.Kind == TokenKind.Data)
                {
                    body.Add(new DataStmt(token.Text) { Line = token.Line, Column = token.Column });
                    Next();
                }
                else if (token.Kind == TokenKind.VariableBegin)
                {
                    Next();
                    var expr = ParseTuple(withCondExpr: true);
                    body.Add(new PrintStmt(expr) { Line = expr.Line, Column = expr.Column });
                    Expect("variable_end");
                }
                else if (token.Kind == TokenKind.BlockBegin)
                {
                    Next();
                    if (endTokens != null && TestAny(Current, endTokens)) return body;
                    body.AddRange(ParseStatement());
                    Expect("block_end");
                }
                else throw Fail("internal parsing error");
            }
        }
        finally
        {
            if (endTokens != null) _endTokenStack.RemoveAt(_endTokenStack.Count - 1);
        }
        return body;
    }

    private List<Stmt> ParseStatements(string[] endTokens, bool dropNeedle = false)
    {
        SkipIf(":");
        Expect("block_end");
        var result = Subparse(endTokens);
        if (Current.Kind == TokenKind.Eof) throw FailEof(endTokens);
        if (dropNeedle) Next();
        return result;
    }

    private IEnumerable<Stmt> ParseStatement()
    {
        Nest();
        try { return ParseStatementCore(); }
        finally { _nesting--; }
    }

    private IEnumerable<Stmt> ParseStatementCore()
    {
        var token = Current;
        if (token.Kind != TokenKind.Name) throw Fail("tag name expected");
        _tagStack.Add(token.Text);
        bool pop = true;
        try
        {
            switch (token.Text)
            {
                case "for": return [ParseFor()];
                case "if": return [ParseIf()];
                case "set": return [ParseSet()];
                case "macro": return [ParseMacro()];
                case "call": return [ParseCallBlock()];
                case "filter": return [ParseFilterBlock()];
                case "with": return [ParseWith()];
                case "print": return ParsePrint();
                case "break" or "continue":
                {
                    Next();
                    if (_loopDepth == 0) throw Fail($"'{token.Text}' outside loop", token);
                    return [token.Text == "break" ? new BreakStmt { Line = token.Line, Column = token.Column } : new ContinueStmt { Line = token.Line, Column = token.Column }];
                }
                case "generation":
                {
                    Next();
                    int saved = _loopDepth;
                    _loopDepth = 0; // the body is a macro (caller) in Jinja2
                    var body = ParseStatements(["name:endgeneration"], dropNeedle: true);
                    _loopDepth = saved;
                    return [new GenerationStmt(body) { Line = token.Line, Column = token.Column }];
                }
            }
            if (Unsupported.Contains(token.Text))
                throw Fail($"the '{token.Text}' tag is not supported by DroSharp's chat template engine (chat templates do not use template inheritance or includes)", token);
            _tagStack.RemoveAt(_tagStack.Count - 1);
            pop = false;
            throw FailUnknownTag(token.Text, token);
        }
        finally
        {
            if (pop) _tagStack.RemoveAt(_tagStack.Count - 1);
        }
    }

    private PyException FailUnknownTag(string? name, Token at)
    {
        var expected = new HashSet<string>();
        foreach (var exprs in _endTokenStack)
            foreach (var e in exprs) expected.Add(Describe(e));
        string? looking = _endTokenStack.Count > 0 ? string.Join(" or ", _endTokenStack[^1].Select(e => PyString.Repr(Describe(e)))) : null;
        var message = new List<string> { name == null ? "Unexpected end of template." : $"Encountered unknown tag {PyString.Repr(name)}." };
        if (looking != null)
        {
            if (name != null && expected.Contains(name))
                message.Add($"You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for {looking}.");
            else message.Add($"Jinja was looking for the following tags: {looking}.");
        }
        if (_tagStack.Count > 0) message.Add($"The innermost block that needs to be closed is {PyString.Repr(_tagStack[^1])}.");
        return Fail(string.Join(" ", message), at);
    }

    private PyException FailEof(string[] endTokens)
    {
        _endTokenStack.Add(endTokens);
        try { return FailUnknownTag(null, Current); }
        finally { _endTokenStack.RemoveAt(_endTokenStack.Count - 1); }
    }

    private ForStmt ParseFor()
    {
        var start = Expect("name:for");
        var target = ParseAssignTarget(extraEndRules: ["name:in"]);
        if (target is NameExpr { Name: "loop" } || (target is TupleExpr t && t.Items.Any(x => x is NameExpr { Name: "loop" })))
            throw Fail("Can't assign to special loop variable in for-loop target", start);
        Expect("name:in");
        var iter = ParseTuple(withCondExpr: false, extraEndRules: ["name:recursive"]);
        Expr? test = null;
        if (SkipIf("name:if")) test = ParseExpression();
        bool recursive = SkipIf("name:recursive");
        _loopDepth++;
        var body = ParseStatements(["name:endfor", "name:else"]);
        _loopDepth--;
        List<Stmt> @else;
        if (Next().Text == "endfor") @else = new();
        else @else = ParseStatements(["name:endfor"], dropNeedle: true);
        return new ForStmt(target, iter, body, @else, test, recursive) { Line = start.Line, Column = start.Column };
    }

    private IfStmt ParseIf()
    {
        var start = Expect("name:if");
        var node = new IfStmt { Line = start.Line, Column = start.Column };
        while (true)
        {
            var test = ParseTuple(withCondExpr: false);
            var body = ParseStatements(["name:elif", "name:else", "name:endif"]);
            node.Branches.Add((test, body));
            var token = Next();
            if (token.IsName("elif")) continue;
            if (token.IsName("else")) node.Else = ParseStatements(["name:endif"], dropNeedle: true);
            break;
        }
        return node;
    }

    private Stmt ParseSet()
    {
        var start = Next();
        var target = ParseAssignTarget(withNamespace: true);
        if (SkipIf("="))
        {
            var expr = ParseTuple();
            return new AssignStmt(target, expr) { Line = start.Line, Column = start.Column };
        }
        var filter = ParseFilter(null);
        var body = ParseStatements(["name:endset"], dropNeedle: true);
        return new AssignBlockStmt(target, (FilterExpr?)filter, body) { Line = start.Line, Column = start.Column };
    }

    private WithStmt ParseWith()
    {
        var start = Next();
        var targets = new List<Expr>();
        var values = new List<Expr>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (targets.Count > 0) Expect(",");
            var target = ParseAssignTarget();
            SetContext(target, NameContext.Param);
            targets.Add(target);
            Expect("=");
            values.Add(ParseExpression());
        }
        var body = ParseStatements(["name:endwith"], dropNeedle: true);
        return new WithStmt(targets, values, body) { Line = start.Line, Column = start.Column };
    }

    private void ParseSignature(MacroLike node)
    {
        Expect("(");
        while (!Current.IsOp(")"))
        {
            if (node.Args.Count > 0) Expect(",");
            var arg = (NameExpr)ParseAssignTarget(nameOnly: true);
            arg.Context = NameContext.Param;
            if (SkipIf("=")) node.Defaults.Add(ParseExpression());
            else if (node.Defaults.Count > 0) throw Fail("non-default argument follows default argument");
            node.Args.Add(arg);
        }
        Expect(")");
    }

    private MacroStmt ParseMacro()
    {
        var start = Next();
        var name = (NameExpr)ParseAssignTarget(nameOnly: true);
        var node = new MacroStmt(name.Name) { Line = start.Line, Column = start.Column };
        ParseSignature(node);
        int saved = _loopDepth;
        _loopDepth = 0;
        node.Body = ParseStatements(["name:endmacro"], dropNeedle: true);
        _loopDepth = saved;
        return node;
    }

    private CallBlockStmt ParseCallBlock()
    {
        var start = Next();
        var node = new CallBlockStmt { Line = start.Line, Column = start.Column };
        if (Current.IsOp("(")) ParseSignature(node);
        var call = ParseExpression();
        node.Call = call as CallExpr ?? throw Fail("expected call", start);
        int saved = _loopDepth;
        _loopDepth = 0;
        node.Body = ParseStatements(["name:endcall"], dropNeedle: true);
        _loopDepth = saved;
        return node;
    }

    private FilterBlockStmt ParseFilterBlock()
    {
        var start = Next();
        var filter = (FilterExpr)ParseFilter(null, startInline: true)!;
        var body = ParseStatements(["name:endfilter"], dropNeedle: true);
        return new FilterBlockStmt(filter, body) { Line = start.Line, Column = start.Column };
    }

    private IEnumerable<Stmt> ParsePrint()
    {
        Next();
        var list = new List<Stmt>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (list.Count > 0) Expect(",");
            var e = ParseExpression();
            list.Add(new PrintStmt(e) { Line = e.Line, Column = e.Column });
        }
        return list;
    }

    private Expr ParseAssignTarget(bool withTuple = true, bool nameOnly = false, string[]? extraEndRules = null, bool withNamespace = false)
    {
        Expr target;
        if (nameOnly)
        {
            var token = Expect("name");
            return new NameExpr(token.Text, NameContext.Store) { Line = token.Line, Column = token.Column };
        }
        target = withTuple
            ? ParseTuple(simplified: true, extraEndRules: extraEndRules, withNamespace: withNamespace)
            : ParsePrimary(withNamespace);
        SetContext(target, NameContext.Store);
        if (!CanAssign(target))
            throw Fail($"can't assign to {PyString.Repr(NodeTypeName(target))}", _tokens[Math.Max(0, _pos - 1)]);
        return target;
    }

    private static string NodeTypeName(Expr e) => e switch
    {
        ConstExpr => "const",
        TupleExpr => "tuple",
        _ => e.GetType().Name.Replace("Expr", "").ToLowerInvariant(),
    };

    private static bool CanAssign(Expr e) => e switch
    {
        NameExpr n => n.Name is not ("true" or "false" or "none" or "True" or "False" or "None"),
        NsRefExpr => true,
        TupleExpr t => t.Items.All(CanAssign),
        _ => false,
    };

    private static void SetContext(Expr e, NameContext ctx)
    {
        if (e is NameExpr n) n.Context = ctx;
        else if (e is TupleExpr t)
            foreach (var item in t.Items) SetContext(item, ctx);
    }

    // ---- expressions ----

    private Expr ParseExpression(bool withCondExpr = true) => withCondExpr ? ParseCondExpr() : ParseOr();

    private Expr ParseCondExpr()
    {
        var start = Current;
        var expr1 = ParseOr();
        while (SkipIf("name:if"))
        {
            var expr2 = ParseOr();
            Expr? expr3 = SkipIf("name:else") ? ParseCondExpr() : null;
            expr1 = new CondExpr(expr2, expr1, expr3) { Line = start.Line, Column = start.Column };
        }
        return expr1;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var op = Next();
            left = new OrExpr(left, ParseAnd()) { Line = op.Line, Column = op.Column };
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var op = Next();
            left = new AndExpr(left, ParseNot()) { Line = op.Line, Column = op.Column };
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var op = Next();
            return new NotExpr(ParseNot()) { Line = op.Line, Column = op.Column };
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var expr = ParseMath1();
        var ops = new List<(string, Expr)>();
        Token? first = null;
        while (true)
        {
            var t = Current;
            if (t.Kind == TokenKind.Operator && CompareOps.Contains(t.Text))
            {
                Next();
                ops.Add((t.Text, ParseMath1()));
            }
            else if (t.IsName("in"))
            {
                Next();
                ops.Add(("in", ParseMath1()));
            }
            else if (t.IsName("not") && Look.IsName("in"))
            {
                Next();
                Next();
                ops.Add(("notin", ParseMath1()));
            }
            else break;
            first ??= t;
        }
        if (ops.Count == 0) return expr;
        return new CompareExpr(expr, ops) { Line = first!.Value.Line, Column = first.Value.Column };
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOp("+") || Current.IsOp("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParseConcat()) { Line = op.Line, Column = op.Column };
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var first = ParseMath2();
        if (!Current.IsOp("~")) return first;
        var op = Current;
        var args = new List<Expr> { first };
        while (Current.IsOp("~"))
        {
            Next();
            args.Add(ParseMath2());
        }
        return new ConcatExpr(args) { Line = op.Line, Column = op.Column };
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParsePow()) { Line = op.Line, Column = op.Column };
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary();
        while (Current.IsOp("**"))
        {
            var op = Next();
            left = new BinaryExpr("**", left, ParseUnary()) { Line = op.Line, Column = op.Column };
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter = true)
    {
        Nest();
        try { return ParseUnaryCore(withFilter); }
        finally { _nesting--; }
    }

    private Expr ParseUnaryCore(bool withFilter)
    {
        var t = Current;
        Expr node;
        if (t.IsOp("-") || t.IsOp("+"))
        {
            Next();
            node = new UnaryExpr(t.Text, ParseUnary(false)) { Line = t.Line, Column = t.Column };
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterExpr(node);
        return node;
    }

    private Expr ParsePrimary(bool withNamespace = false)
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                Next();
                if (token.Text is "true" or "True" or "false" or "False")
                    return new ConstExpr(token.Text is "true" or "True") { Line = token.Line, Column = token.Column };
                if (token.Text is "none" or "None") return new ConstExpr(null) { Line = token.Line, Column = token.Column };
                if (withNamespace && Current.IsOp("."))
                {
                    Next();
                    var attr = Expect("name");
                    return new NsRefExpr(token.Text, attr.Text) { Line = token.Line, Column = token.Column };
                }
                return new NameExpr(token.Text, NameContext.Load) { Line = token.Line, Column = token.Column };
            case TokenKind.String:
            {
                Next();
                string s = (string)token.Value!;
                while (Current.Kind == TokenKind.String) s += (string)Next().Value!;
                return new ConstExpr(s) { Line = token.Line, Column = token.Column };
            }
            case TokenKind.Integer or TokenKind.Float:
                Next();
                return new ConstExpr(token.Value) { Line = token.Line, Column = token.Column };
            case TokenKind.Operator when token.Text == "(":
            {
                Next();
                var node = ParseTuple(explicitParentheses: true);
                Expect(")");
                return node;
            }
            case TokenKind.Operator when token.Text == "[": return ParseList();
            case TokenKind.Operator when token.Text == "{": return ParseDict();
        }
        if (token.Kind == TokenKind.Eof) throw Fail("unexpected end of template, expected an expression.");
        throw Fail($"unexpected {PyString.Repr(token.Describe())}");
    }

    private bool IsTupleEnd(string[]? extraEndRules)
    {
        var t = Current;
        if (t.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd || t.IsOp(")")) return true;
        return extraEndRules != null && TestAny(t, extraEndRules);
    }

    private Expr ParseTuple(bool simplified = false, bool withCondExpr = true, string[]? extraEndRules = null,
        bool explicitParentheses = false, bool withNamespace = false)
    {
        var start = Current;
        var args = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (args.Count > 0) Expect(",");
            if (IsTupleEnd(extraEndRules)) break;
            args.Add(simplified ? ParsePrimary(withNamespace) : ParseExpression(withCondExpr));
            if (Current.IsOp(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (args.Count > 0) return args[0];
            if (!explicitParentheses)
            {
                if (Current.Kind == TokenKind.Eof) throw Fail("unexpected end of template, expected an expression.");
                throw Fail($"Expected an expression, got {PyString.Repr(Current.Describe())}");
            }
        }
        return new TupleExpr(args) { Line = start.Line, Column = start.Column };
    }

    private ListExpr ParseList()
    {
        var token = Expect("[");
        var items = new List<Expr>();
        while (!Current.IsOp("]"))
        {
            if (items.Count > 0) Expect(",");
            if (Current.IsOp("]")) break;
            items.Add(ParseExpression());
        }
        Expect("]");
        return new ListExpr(items) { Line = token.Line, Column = token.Column };
    }

    private DictExpr ParseDict()
    {
        var token = Expect("{");
        var items = new List<(Expr, Expr)>();
        while (!Current.IsOp("}"))
        {
            if (items.Count > 0) Expect(",");
            if (Current.IsOp("}")) break;
            var key = ParseExpression();
            Expect(":");
            items.Add((key, ParseExpression()));
        }
        Expect("}");
        return new DictExpr(items) { Line = token.Line, Column = token.Column };
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOp(".") || Current.IsOp("[")) node = ParseSubscript(node);
            else if (Current.IsOp("(")) node = ParseCall(node);
            else return node;
        }
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Current.IsOp("|")) node = ParseFilter(node)!;
            else if (Current.IsName("is")) node = ParseTest(node);
            else if (Current.IsOp("(")) node = ParseCall(node);
            else return node;
        }
    }

    private Expr ParseSubscript(Expr node)
    {
        var token = Next();
        if (token.IsOp("."))
        {
            var attr = Current;
            Next();
            if (attr.Kind == TokenKind.Name) return new GetAttrExpr(node, attr.Text) { Line = token.Line, Column = token.Column };
            if (attr.Kind != TokenKind.Integer) throw Fail("expected name or number", attr);
            return new GetItemExpr(node, new ConstExpr(attr.Value) { Line = attr.Line, Column = attr.Column }) { Line = token.Line, Column = token.Column };
        }
        var args = new List<Expr>();
        while (!Current.IsOp("]"))
        {
            if (args.Count > 0) Expect(",");
            args.Add(ParseSubscribed());
        }
        Expect("]");
        Expr arg = args.Count == 1 ? args[0] : new TupleExpr(args) { Line = token.Line, Column = token.Column };
        return new GetItemExpr(node, arg) { Line = token.Line, Column = token.Column };
    }

    private Expr ParseSubscribed()
    {
        var start = Current;
        var args = new List<Expr?>();
        if (Current.IsOp(":"))
        {
            Next();
            args.Add(null);
        }
        else
        {
            var node = ParseExpression();
            if (!Current.IsOp(":")) return node;
            Next();
            args.Add(node);
        }
        if (Current.IsOp(":")) args.Add(null);
        else if (!Current.IsOp("]") && !Current.IsOp(",")) args.Add(ParseExpression());
        else args.Add(null);
        if (Current.IsOp(":"))
        {
            Next();
            args.Add(!Current.IsOp("]") && !Current.IsOp(",") ? ParseExpression() : null);
        }
        else args.Add(null);
        return new SliceExpr(args[0], args[1], args[2]) { Line = start.Line, Column = start.Column };
    }

    private ArgList ParseCallArgs()
    {
        var token = Expect("(");
        var result = new ArgList();
        bool requireComma = false;
        void Ensure(bool ok)
        {
            if (!ok) throw Fail("invalid syntax for function call expression", token);
        }
        while (!Current.IsOp(")"))
        {
            if (requireComma)
            {
                Expect(",");
                if (Current.IsOp(")")) break;
            }
            if (Current.IsOp("*"))
            {
                Ensure(result.DynArgs == null && result.DynKwargs == null);
                Next();
                result.DynArgs = ParseExpression();
            }
            else if (Current.IsOp("**"))
            {
                Ensure(result.DynKwargs == null);
                Next();
                result.DynKwargs = ParseExpression();
            }
            else if (Current.Kind == TokenKind.Name && Look.IsOp("="))
            {
                Ensure(result.DynKwargs == null);
                string key = Current.Text;
                Next();
                Next();
                result.Kwargs.Add((key, ParseExpression()));
            }
            else
            {
                Ensure(result.DynArgs == null && result.DynKwargs == null && result.Kwargs.Count == 0);
                result.Args.Add(ParseExpression());
            }
            requireComma = true;
        }
        Expect(")");
        return result;
    }

    private CallExpr ParseCall(Expr node)
    {
        var token = Current;
        var args = ParseCallArgs();
        return new CallExpr(node, args) { Line = token.Line, Column = token.Column };
    }

    private Expr? ParseFilter(Expr? node, bool startInline = false)
    {
        while (Current.IsOp("|") || startInline)
        {
            if (!startInline) Next();
            var token = Expect("name");
            string name = token.Text;
            while (Current.IsOp("."))
            {
                Next();
                name += "." + Expect("name").Text;
            }
            if (!Builtins.HasFilter(name)) throw Fail($"No filter named {PyString.Repr(name)}.", token);
            var args = Current.IsOp("(") ? ParseCallArgs() : new ArgList();
            node = new FilterExpr(node, name, args) { Line = token.Line, Column = token.Column };
            startInline = false;
        }
        return node;
    }

    private Expr ParseTest(Expr node)
    {
        var token = Next();
        bool negated = false;
        if (Current.IsName("not"))
        {
            Next();
            negated = true;
        }
        var nameToken = Expect("name");
        string name = nameToken.Text;
        while (Current.IsOp("."))
        {
            Next();
            name += "." + Expect("name").Text;
        }
        if (!Builtins.HasTest(name)) throw Fail($"No test named {PyString.Repr(name)}.", nameToken);
        ArgList args;
        if (Current.IsOp("(")) args = ParseCallArgs();
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || Current.IsOp("(") || Current.IsOp("[") || Current.IsOp("{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            if (Current.IsName("is")) throw Fail("You cannot chain multiple tests with is");
            args = new ArgList();
            args.Args.Add(ParsePostfix(ParsePrimary()));
        }
        else args = new ArgList();
        Expr result = new TestExpr(node, name, args) { Line = token.Line, Column = token.Column };
        if (negated) result = new NotExpr(result) { Line = token.Line, Column = token.Column };
        return result;
    }
}
