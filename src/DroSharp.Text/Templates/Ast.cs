namespace DroSharp.Text.Templates;

// The template syntax tree, mirroring jinja2.nodes. Every node records its 1-based line and column.

internal abstract class Node
{
    public int Line { get; init; }
    public int Column { get; init; }
}

internal abstract class Expr : Node;

internal abstract class Stmt : Node;

internal enum NameContext { Load, Store, Param }

internal sealed class ConstExpr(object? value) : Expr
{
    public object? Value { get; } = value;
}

internal sealed class NameExpr(string name, NameContext context) : Expr
{
    public string Name { get; } = name;
    public NameContext Context { get; set; } = context;
}

/// <summary><c>ns.attr</c> as an assignment target.</summary>
internal sealed class NsRefExpr(string name, string attr) : Expr
{
    public string Name { get; } = name;
    public string Attr { get; } = attr;
}

internal sealed class TupleExpr(List<Expr> items) : Expr
{
    public List<Expr> Items { get; } = items;
}

internal sealed class ListExpr(List<Expr> items) : Expr
{
    public List<Expr> Items { get; } = items;
}

internal sealed class DictExpr(List<(Expr Key, Expr Value)> items) : Expr
{
    public List<(Expr Key, Expr Value)> Items { get; } = items;
}

internal sealed class GetAttrExpr(Expr obj, string attr) : Expr
{
    public Expr Obj { get; } = obj;
    public string Attr { get; } = attr;
}

internal sealed class GetItemExpr(Expr obj, Expr arg) : Expr
{
    public Expr Obj { get; } = obj;
    public Expr Arg { get; } = arg;
}

internal sealed class SliceExpr(Expr? start, Expr? stop, Expr? step) : Expr
{
    public Expr? Start { get; } = start;
    public Expr? Stop { get; } = stop;
    public Expr? Step { get; } = step;
}

/// <summary>Arguments of a call, filter or test: positional, keyword, <c>*args</c>, <c>**kwargs</c>.</summary>
internal sealed class ArgList
{
    public List<Expr> Args { get; } = new();
    public List<(string Name, Expr Value)> Kwargs { get; } = new();
    public Expr? DynArgs { get; set; }
    public Expr? DynKwargs { get; set; }

    public IEnumerable<Expr> All()
    {
        foreach (var a in Args) yield return a;
        foreach (var (_, v) in Kwargs) yield return v;
        if (DynArgs != null) yield return DynArgs;
        if (DynKwargs != null) yield return DynKwargs;
    }
}

internal sealed class CallExpr(Expr func, ArgList args) : Expr
{
    public Expr Func { get; } = func;
    public ArgList Args { get; } = args;
}

/// <summary><c>node | name(args)</c>; <see cref="Operand"/> is null in <c>{% filter %}</c> and <c>{% set x | f %}</c>.</summary>
internal sealed class FilterExpr(Expr? operand, string name, ArgList args) : Expr
{
    public Expr? Operand { get; set; } = operand;
    public string Name { get; } = name;
    public ArgList Args { get; } = args;
}

internal sealed class TestExpr(Expr operand, string name, ArgList args) : Expr
{
    public Expr Operand { get; } = operand;
    public string Name { get; } = name;
    public ArgList Args { get; } = args;
}

internal sealed class CondExpr(Expr test, Expr then, Expr? otherwise) : Expr
{
    public Expr Test { get; } = test;
    public Expr Then { get; } = then;
    public Expr? Otherwise { get; } = otherwise;
}

internal sealed class AndExpr(Expr left, Expr right) : Expr
{
    public Expr Left { get; } = left;
    public Expr Right { get; } = right;
}

internal sealed class OrExpr(Expr left, Expr right) : Expr
{
    public Expr Left { get; } = left;
    public Expr Right { get; } = right;
}

internal sealed class NotExpr(Expr operand) : Expr
{
    public Expr Operand { get; } = operand;
}

/// <summary>A comparison chain <c>a &lt; b &lt;= c</c>; ops are ==, !=, &lt;, &lt;=, &gt;, &gt;=, in, notin.</summary>
internal sealed class CompareExpr(Expr first, List<(string Op, Expr Operand)> ops) : Expr
{
    public Expr First { get; } = first;
    public List<(string Op, Expr Operand)> Ops { get; } = ops;
}

internal sealed class BinaryExpr(string op, Expr left, Expr right) : Expr
{
    public string Op { get; } = op;
    public Expr Left { get; } = left;
    public Expr Right { get; } = right;
}

internal sealed class UnaryExpr(string op, Expr operand) : Expr
{
    public string Op { get; } = op;
    public Expr Operand { get; } = operand;
}

/// <summary><c>a ~ b ~ c</c>: the str() of each, joined.</summary>
internal sealed class ConcatExpr(List<Expr> items) : Expr
{
    public List<Expr> Items { get; } = items;
}

// ---- statements ----

/// <summary>How a frame's variable gets its value on entry (jinja2.idtracking's load instructions).</summary>
internal enum LoadKind
{
    /// <summary>Set by the frame's owner (loop target, macro argument, <c>loop</c>).</summary>
    Parameter,

    /// <summary>Looked up in the render context (passed variables and globals).</summary>
    Resolve,

    /// <summary>Copied from the enclosing frame's variable of the same name.</summary>
    Alias,

    /// <summary>Starts undefined.</summary>
    Undefined,
}

/// <summary>The variables a scope (template, loop body, macro, …) owns and how each starts.</summary>
internal sealed class FrameInfo
{
    public List<(string Name, LoadKind Kind)> Loads { get; } = new();
}

internal sealed class DataStmt(string text) : Stmt
{
    public string Text { get; } = text;
}

internal sealed class PrintStmt(Expr value) : Stmt
{
    public Expr Value { get; } = value;
}

internal sealed class IfStmt : Stmt
{
    public List<(Expr Test, List<Stmt> Body)> Branches { get; } = new();
    public List<Stmt> Else { get; set; } = new();
}

internal sealed class ForStmt(Expr target, Expr iter, List<Stmt> body, List<Stmt> @else, Expr? test, bool recursive) : Stmt
{
    public Expr Target { get; } = target;
    public Expr Iter { get; } = iter;
    public List<Stmt> Body { get; } = body;
    public List<Stmt> Else { get; } = @else;
    public Expr? Test { get; } = test;
    public bool Recursive { get; } = recursive;
    public FrameInfo BodyFrame { get; } = new();
    public FrameInfo ElseFrame { get; } = new();
    public FrameInfo TestFrame { get; } = new();
}

internal sealed class AssignStmt(Expr target, Expr value) : Stmt
{
    public Expr Target { get; } = target;
    public Expr Value { get; } = value;
}

internal sealed class AssignBlockStmt(Expr target, FilterExpr? filter, List<Stmt> body) : Stmt
{
    public Expr Target { get; } = target;
    public FilterExpr? Filter { get; } = filter;
    public List<Stmt> Body { get; } = body;
    public FrameInfo Frame { get; } = new();
}

/// <summary>Shared by <c>{% macro %}</c> and <c>{% call %}</c> (whose body becomes the <c>caller</c> macro).</summary>
internal abstract class MacroLike : Stmt
{
    public List<NameExpr> Args { get; } = new();
    public List<Expr> Defaults { get; } = new();
    public List<Stmt> Body { get; set; } = new();
    public FrameInfo Frame { get; } = new();
    public bool AccessesCaller { get; set; }
    public bool AccessesKwargs { get; set; }
    public bool AccessesVarargs { get; set; }
}

internal sealed class MacroStmt(string name) : MacroLike
{
    public string Name { get; } = name;
}

internal sealed class CallBlockStmt : MacroLike
{
    public CallExpr Call { get; set; } = null!;
}

internal sealed class FilterBlockStmt(FilterExpr filter, List<Stmt> body) : Stmt
{
    public FilterExpr Filter { get; } = filter;
    public List<Stmt> Body { get; } = body;
    public FrameInfo Frame { get; } = new();
}

internal sealed class WithStmt(List<Expr> targets, List<Expr> values, List<Stmt> body) : Stmt
{
    public List<Expr> Targets { get; } = targets;
    public List<Expr> Values { get; } = values;
    public List<Stmt> Body { get; } = body;
    public FrameInfo Frame { get; } = new();
}

internal sealed class BreakStmt : Stmt;

internal sealed class ContinueStmt : Stmt;

/// <summary>
/// <c>{% generation %}…{% endgeneration %}</c>: transformers' AssistantTracker parses it as a call block whose
/// body renders unchanged (its own scope); we do not track assistant masks.
/// </summary>
internal sealed class GenerationStmt(List<Stmt> body) : Stmt
{
    public List<Stmt> Body { get; } = body;
    public FrameInfo Frame { get; } = new();
}

internal sealed class TemplateNode(List<Stmt> body) : Node
{
    public List<Stmt> Body { get; } = body;
    public FrameInfo Frame { get; } = new();
}
