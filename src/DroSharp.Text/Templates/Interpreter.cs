using System.Text;

namespace DroSharp.Text.Templates;

/// <summary>
/// Renders a parsed template: a tree-walking evaluator with Jinja2's semantics under transformers'
/// <c>ImmutableSandboxedEnvironment</c> (attribute lookup before item lookup for <c>a.b</c>, the reverse for
/// <c>a['b']</c>, no underscore attributes, no mutating methods of lists and dicts).
/// </summary>
internal sealed class Interpreter
{
    private enum Flow { Normal, Break, Continue }

    private readonly Dictionary<string, object?> _context;
    private StringBuilder _out = new();
    private int _depth;
    private const int MaxDepth = 200; // nested macro/filter/loop calls; Python's recursion limit stops Jinja2 near here too

    public Interpreter(Dictionary<string, object?> context, Func<DateTime> clock)
    {
        _context = context;
        Clock = clock;
    }

    public Func<DateTime> Clock { get; }

    public string Render(TemplateNode template)
    {
        var frame = Enter(template.Frame, null);
        Exec(template.Body, frame);
        return _out.ToString();
    }

    // ---------------- scopes ----------------

    private object? Resolve(string name) => _context.TryGetValue(name, out var v) ? v : Frame.Missing;

    /// <summary>Opens a scope: every variable it owns starts as its load instruction says (parameters are set by the caller).</summary>
    private Frame Enter(FrameInfo info, Frame? parent, Action<Frame>? setParameters = null)
    {
        var frame = new Frame(parent);
        setParameters?.Invoke(frame);
        foreach (var (name, kind) in info.Loads)
        {
            switch (kind)
            {
                case LoadKind.Parameter:
                    if (!frame.Vars.ContainsKey(name)) frame.Vars[name] = Frame.Missing;
                    break;
                case LoadKind.Resolve:
                    frame.Vars[name] = Resolve(name);
                    break;
                case LoadKind.Alias:
                    frame.Vars[name] = parent != null && parent.TryFind(name, out var v) ? v : Resolve(name);
                    break;
                default:
                    frame.Vars[name] = Frame.Missing;
                    break;
            }
        }
        return frame;
    }

    private object? Lookup(Frame frame, string name)
    {
        if (!frame.TryFind(name, out var v)) v = Resolve(name);
        return ReferenceEquals(v, Frame.Missing) ? Undefined.ForName(name) : v;
    }

    // ---------------- statements ----------------

    private Flow Exec(List<Stmt> body, Frame frame)
    {
        foreach (var stmt in body)
        {
            var flow = ExecOne(stmt, frame);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow ExecOne(Stmt stmt, Frame frame)
    {
        try
        {
            switch (stmt)
            {
                case DataStmt d:
                    _out.Append(d.Text);
                    return Flow.Normal;
                case PrintStmt p:
                    _out.Append(Py.Str(Eval(p.Value, frame)));
                    return Flow.Normal;
                case IfStmt i:
                    foreach (var (test, branch) in i.Branches)
                        if (Py.Truthy(Eval(test, frame))) return Exec(branch, frame);
                    return Exec(i.Else, frame);
                case ForStmt f:
                    ExecFor(f, frame);
                    return Flow.Normal;
                case AssignStmt a:
                    CheckNamespaceTargets(a.Target, frame);
                    Assign(a.Target, Eval(a.Value, frame), frame);
                    return Flow.Normal;
                case AssignBlockStmt ab:
                {
                    var block = Enter(ab.Frame, frame);
                    string text = Capture(() => Exec(ab.Body, block));
                    object? value = ab.Filter == null ? text : ApplyFilterChain(ab.Filter, text, block);
                    CheckNamespaceTargets(ab.Target, frame);
                    Assign(ab.Target, value, frame);
                    return Flow.Normal;
                }
                case MacroStmt m:
                    frame.Vars[m.Name] = new Macro(m, frame, m.Name);
                    return Flow.Normal;
                case CallBlockStmt cb:
                {
                    var caller = new Macro(cb, frame, "caller");
                    _out.Append(Py.Str(EvalCall(cb.Call, frame, caller)));
                    return Flow.Normal;
                }
                case FilterBlockStmt fb:
                {
                    var block = Enter(fb.Frame, frame);
                    string text = Capture(() => Exec(fb.Body, block));
                    _out.Append(Py.Str(ApplyFilterChain(fb.Filter, text, block)));
                    return Flow.Normal;
                }
                case WithStmt w:
                {
                    var values = w.Values.Select(v => Eval(v, frame)).ToList();
                    var inner = Enter(w.Frame, frame, f =>
                    {
                        for (int k = 0; k < w.Targets.Count; k++) Assign(w.Targets[k], values[k], f);
                    });
                    return Exec(w.Body, inner);
                }
                case GenerationStmt g:
                {
                    var inner = Enter(g.Frame, frame);
                    string text = Capture(() => Exec(g.Body, inner));
                    _out.Append(text);
                    return Flow.Normal;
                }
                case BreakStmt: return Flow.Break;
                case ContinueStmt: return Flow.Continue;
                default: throw new InvalidOperationException(stmt.GetType().Name);
            }
        }
        catch (PyException e) when (!e.HasPosition)
        {
            e.Line = stmt.Line;
            e.Column = stmt.Column;
            throw;
        }
    }

    /// <summary>Runs <paramref name="body"/> with output going to a fresh buffer; returns that text.</summary>
    private string Capture(Action body)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            body();
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private void ExecFor(ForStmt f, Frame frame)
    {
        var iterable = Eval(f.Iter, frame);
        if (f.Recursive) _out.Append(RenderLoop(f, frame, iterable, 0));
        else RunLoop(f, frame, iterable, 0, null);
    }

    private string RenderLoop(ForStmt f, Frame frame, object? iterable, int depth0)
    {
        EnterCall();
        try { return Capture(() => RunLoop(f, frame, iterable, depth0, x => RenderLoop(f, frame, x, depth0 + 1))); }
        finally { _depth--; }
    }

    private void RunLoop(ForStmt f, Frame frame, object? iterable, int depth0, Func<object?, string>? recurse)
    {
        if (iterable is LoopContext) throw PyException.Type("'LoopContext' object is not iterable");
        IEnumerable<object?> items = Py.Iterate(iterable);
        long? length = Py.HasLen(iterable) && iterable is not PyIterator ? Py.Len(iterable) : null;
        if (f.Test != null)
        {
            items = Filtered(f, frame, items);
            length = null;
        }
        var loop = new LoopContext(items, length, depth0, recurse);
        // Jinja2 clears the flag that selects the else block at the end of the loop body, so the else block
        // also renders when every iteration ended in continue or break.
        bool renderElse = true;
        while (loop.MoveNext(out var item))
        {
            var body = Enter(f.BodyFrame, frame, b =>
            {
                Assign(f.Target, item, b);
                b.Vars["loop"] = loop;
            });
            var flow = Exec(f.Body, body);
            if (flow == Flow.Normal) renderElse = false;
            else if (flow == Flow.Break) break;
        }
        if (renderElse && f.Else.Count > 0)
        {
            var elseFrame = Enter(f.ElseFrame, frame);
            Exec(f.Else, elseFrame);
        }
    }

    private IEnumerable<object?> Filtered(ForStmt f, Frame frame, IEnumerable<object?> items)
    {
        foreach (var item in items)
        {
            var test = Enter(f.TestFrame, frame, t => Assign(f.Target, item, t));
            if (Py.Truthy(Eval(f.Test!, test))) yield return item;
        }
    }

    private void CheckNamespaceTargets(Expr target, Frame frame)
    {
        foreach (var ns in NsRefs(target))
            if (Lookup(frame, ns.Name) is not Namespace)
                throw new PyException("TemplateRuntimeError", "cannot assign attribute on non-namespace object") { Line = ns.Line, Column = ns.Column };
    }

    private static IEnumerable<NsRefExpr> NsRefs(Expr target) => target switch
    {
        NsRefExpr n => [n],
        TupleExpr t => t.Items.SelectMany(NsRefs),
        _ => [],
    };

    /// <summary>Python assignment to a name, a namespace attribute or a tuple of targets (unpacking).</summary>
    private void Assign(Expr target, object? value, Frame frame)
    {
        switch (target)
        {
            case NameExpr n:
                frame.Vars[n.Name] = value;
                return;
            case NsRefExpr ns:
                ((Namespace)Lookup(frame, ns.Name)!).Attributes.Set(ns.Attr, value);
                return;
            case TupleExpr t:
            {
                var items = Py.ToList(value);
                if (items.Count < t.Items.Count)
                    throw PyException.Value($"not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                if (items.Count > t.Items.Count)
                    throw PyException.Value($"too many values to unpack (expected {t.Items.Count})");
                for (int i = 0; i < items.Count; i++) Assign(t.Items[i], items[i], frame);
                return;
            }
            default: throw new InvalidOperationException("bad assignment target");
        }
    }

    // ---------------- macros ----------------

    public string InvokeMacro(Macro macro, CallArgs call)
    {
        var node = macro.Node;
        var names = node.Args.Select(a => a.Name).ToList();
        var args = call.Positional;
        var kwargs = new List<KeyValuePair<string, object?>>(call.Keywords);
        object? Pop(string key)
        {
            int i = kwargs.FindIndex(p => p.Key == key);
            if (i < 0) return Frame.Missing;
            var v = kwargs[i].Value;
            kwargs.RemoveAt(i);
            return v;
        }
        var values = new List<object?>(args.Take(names.Count));
        bool foundCaller;
        if (values.Count != names.Count)
        {
            foundCaller = false;
            foreach (var name in names.Skip(values.Count))
            {
                values.Add(Pop(name));
                if (name == "caller") foundCaller = true;
            }
        }
        else foundCaller = names.Contains("caller");
        object? caller = null;
        if (node.AccessesCaller && !foundCaller)
        {
            caller = Pop("caller");
            if (ReferenceEquals(caller, Frame.Missing) || caller == null) caller = Undefined.WithHint("No caller defined", "caller");
        }
        PyDict? kw = null;
        if (node.AccessesKwargs)
        {
            kw = new PyDict();
            foreach (var (k, v) in kwargs) kw.Set(k, v);
        }
        else if (kwargs.Count > 0)
        {
            if (kwargs.Any(k => k.Key == "caller"))
                throw PyException.Type($"macro {PyString.Repr(macro.Name)} was invoked with two values for the special caller argument. This is most likely a bug.");
            throw PyException.Type($"macro {PyString.Repr(macro.Name)} takes no keyword argument {PyString.Repr(kwargs[0].Key)}");
        }
        PyList? varargs = null;
        if (node.AccessesVarargs) varargs = new PyList(args.Skip(names.Count).ToList(), isTuple: true);
        else if (args.Count > names.Count)
            throw PyException.Type($"macro {PyString.Repr(macro.Name)} takes not more than {names.Count} argument(s)");

        {
            var frame = Enter(node.Frame, macro.Closure, f =>
            {
                for (int i = 0; i < names.Count; i++) f.Vars[names[i]] = values[i];
                if (node.AccessesCaller) f.Vars["caller"] = caller;
                if (kw != null) f.Vars["kwargs"] = kw;
                if (varargs != null) f.Vars["varargs"] = varargs;
            });
            for (int i = 0; i < names.Count; i++)
            {
                if (!ReferenceEquals(frame.Vars[names[i]], Frame.Missing)) continue;
                int d = i - (names.Count - node.Defaults.Count);
                frame.Vars[names[i]] = d >= 0
                    ? Eval(node.Defaults[d], frame)
                    : Undefined.WithHint($"parameter {PyString.Repr(names[i])} was not provided", names[i]);
            }
            return Capture(() => Exec(node.Body, frame));
        }
    }

    /// <summary>Counts one nested call (macro, filter, recursive loop); too deep is Python's RecursionError, not a stack overflow.</summary>
    private void EnterCall()
    {
        if (++_depth > MaxDepth)
        {
            _depth = 0;
            throw new PyException("RecursionError", "maximum recursion depth exceeded");
        }
    }

    // ---------------- expressions ----------------

    public object? Eval(Expr e, Frame frame)
    {
        try
        {
            return EvalCore(e, frame);
        }
        catch (PyException ex) when (!ex.HasPosition)
        {
            ex.Line = e.Line;
            ex.Column = e.Column;
            throw;
        }
    }

    private object? EvalCore(Expr e, Frame frame)
    {
        switch (e)
        {
            case ConstExpr c: return c.Value;
            case NameExpr n: return Lookup(frame, n.Name);
            case TupleExpr t: return new PyList(t.Items.Select(x => Eval(x, frame)).ToList(), isTuple: true);
            case ListExpr l: return new PyList(l.Items.Select(x => Eval(x, frame)).ToList());
            case DictExpr d:
            {
                var dict = new PyDict();
                foreach (var (k, v) in d.Items) dict.Set(Eval(k, frame), Eval(v, frame));
                return dict;
            }
            case GetAttrExpr ga: return GetAttr(Eval(ga.Obj, frame), ga.Attr);
            case GetItemExpr gi:
            {
                var obj = Eval(gi.Obj, frame);
                if (gi.Arg is SliceExpr s)
                    return Py.Slice(obj, s.Start == null ? null : Eval(s.Start, frame), s.Stop == null ? null : Eval(s.Stop, frame),
                        s.Step == null ? null : Eval(s.Step, frame));
                return GetItem(obj, Eval(gi.Arg, frame));
            }
            case SliceExpr: throw PyException.Type("a slice is only valid inside []");
            case CallExpr c: return EvalCall(c, frame, null);
            case FilterExpr f: return ApplyFilterChain(f, null, frame);
            case TestExpr t:
            {
                var value = Eval(t.Operand, frame);
                return CallTest(t.Name, value, EvalArgs(t.Args, frame));
            }
            case CondExpr c:
                if (Py.Truthy(Eval(c.Test, frame))) return Eval(c.Then, frame);
                return c.Otherwise != null
                    ? Eval(c.Otherwise, frame)
                    : Undefined.WithHint($"the inline if-expression on line {c.Line} evaluated to false and no else section was defined.");
            case AndExpr a:
            {
                var left = Eval(a.Left, frame);
                return Py.Truthy(left) ? Eval(a.Right, frame) : left;
            }
            case OrExpr o:
            {
                var left = Eval(o.Left, frame);
                return Py.Truthy(left) ? left : Eval(o.Right, frame);
            }
            case NotExpr n: return !Py.Truthy(Eval(n.Operand, frame));
            case CompareExpr c:
            {
                var left = Eval(c.First, frame);
                foreach (var (op, operand) in c.Ops)
                {
                    var right = Eval(operand, frame);
                    bool ok = op switch
                    {
                        "==" => Py.Eq(left, right),
                        "!=" => !Py.Eq(left, right),
                        "in" => Py.Contains(right, left),
                        "notin" => !Py.Contains(right, left),
                        _ => Py.Order(op, left, right),
                    };
                    if (!ok) return false;
                    left = right;
                }
                return true;
            }
            case BinaryExpr b:
            {
                var left = Eval(b.Left, frame);
                var right = Eval(b.Right, frame);
                return b.Op switch
                {
                    "+" => Py.Add(left, right),
                    "-" => Py.Sub(left, right),
                    "*" => Py.Mul(left, right),
                    "/" => Py.TrueDiv(left, right),
                    "//" => Py.FloorDiv(left, right),
                    "%" => Py.Mod(left, right),
                    _ => Py.Pow(left, right),
                };
            }
            case UnaryExpr u:
            {
                var v = Eval(u.Operand, frame);
                return u.Op == "-" ? Py.Neg(v) : Py.Pos(v);
            }
            case ConcatExpr cc:
            {
                var sb = new StringBuilder();
                foreach (var item in cc.Items) sb.Append(Py.Str(Eval(item, frame)));
                return sb.ToString();
            }
            case NsRefExpr ns: return GetAttr(Lookup(frame, ns.Name), ns.Attr);
            default: throw new InvalidOperationException(e.GetType().Name);
        }
    }

    private CallArgs EvalArgs(ArgList list, Frame frame)
    {
        var positional = list.Args.Select(a => Eval(a, frame)).ToList();
        var keywords = list.Kwargs.Select(k => new KeyValuePair<string, object?>(k.Name, Eval(k.Value, frame))).ToList();
        if (list.DynArgs != null) positional.AddRange(Py.ToList(Eval(list.DynArgs, frame)));
        if (list.DynKwargs != null)
        {
            var d = Eval(list.DynKwargs, frame);
            if (d is not PyDict dict) throw PyException.Type($"argument after ** must be a mapping, not {Py.TypeName(d)}");
            foreach (var kv in dict.Items)
            {
                if (kv.Key is not string key) throw PyException.Type("keywords must be strings");
                keywords.Add(new(key, kv.Value));
            }
        }
        return new CallArgs(positional, keywords);
    }

    private object? EvalCall(CallExpr c, Frame frame, Macro? caller)
    {
        var func = Eval(c.Func, frame);
        var args = EvalArgs(c.Args, frame);
        if (caller != null) args.Keywords.Add(new("caller", caller));
        return Call(func, args);
    }

    /// <summary>Applies a chain of filters; the innermost one with no operand gets <paramref name="input"/>.</summary>
    private object? ApplyFilterChain(FilterExpr f, object? input, Frame frame)
    {
        var value = f.Operand switch
        {
            null => input,
            FilterExpr inner => ApplyFilterChain(inner, input, frame),
            _ => Eval(f.Operand, frame),
        };
        try
        {
            return CallFilter(f.Name, value, EvalArgs(f.Args, frame));
        }
        catch (PyException ex) when (!ex.HasPosition)
        {
            ex.Line = f.Line;
            ex.Column = f.Column;
            throw;
        }
    }

    // ---------------- environment operations ----------------

    /// <summary>Calls a template-callable value (sandboxed <c>environment.call</c>).</summary>
    public object? Call(object? func, CallArgs args)
    {
        switch (func)
        {
            case Undefined u: throw u.Error();
            case PyCallable c:
                EnterCall();
                try { return c.Call(this, args); }
                finally { _depth--; }
            case LoopContext loop:
                if (loop.Recurse == null) throw PyException.Type("The loop must have the 'recursive' marker to be called recursively.");
                if (args.Positional.Count != 1) throw PyException.Type($"__call__() takes 2 positional arguments but {args.Positional.Count + 1} were given");
                return loop.Recurse(args.Positional[0]);
            default:
                throw PyException.Type($"'{Py.TypeName(func)}' object is not callable");
        }
    }

    public object? CallFilter(string name, object? value, CallArgs args) => Builtins.CallFilter(this, name, value, args);

    public bool CallTest(string name, object? value, CallArgs args) => Builtins.CallTest(this, name, value, args);

    /// <summary>Sandboxed <c>environment.getattr(obj, name)</c>: the Python attribute first, then <c>obj[name]</c>, else Undefined.</summary>
    public object? GetAttr(object? obj, string name)
    {
        if (obj is Undefined u) throw u.Error();
        if (PyAttributes.TryGet(this, obj, name, out var value)) return value;
        if (Py.TryIndex(obj, name, out value)) return value;
        return Undefined.ForMember(obj, name);
    }

    /// <summary>Sandboxed <c>environment.getitem(obj, key)</c>: <c>obj[key]</c> first, then (for a string key) the attribute, else Undefined.</summary>
    public object? GetItem(object? obj, object? key)
    {
        if (Py.TryIndex(obj, key, out var value)) return value;
        if (key is string s && PyAttributes.TryGet(this, obj, s, out value)) return value;
        return Undefined.ForMember(obj, key);
    }
}
