namespace DroSharp.Text.Templates;

/// <summary>
/// Jinja2's scoping rules (jinja2/idtracking.py): which variables each scope owns and how each starts. A scope
/// is the template, a loop body (fresh every iteration), a loop's <c>else</c> or filter test, a macro or call
/// block, a <c>{% filter %}</c>, <c>{% set %}…{% endset %}</c> or <c>{% with %}</c> body. A name stored in a
/// scope is local to it and starts as a copy of the enclosing scope's variable of that name if there is one
/// (alias), else undefined; a name stored only inside an <c>{% if %}</c> branch starts from the context
/// (resolve) when no enclosing scope has it. <c>{% if %}</c> does not open a scope.
/// </summary>
internal static class ScopeAnalyzer
{
    public static void Analyze(TemplateNode template)
    {
        var root = new Symbols(null);
        var visitor = new FrameSymbolVisitor(root);
        foreach (var s in template.Body) visitor.Visit(s);
        root.Export(template.Frame);
        foreach (var s in template.Body) AnalyzeNested(s, root);
    }

    /// <summary>Analyzes the scopes opened by <paramref name="node"/> (and below), with <paramref name="parent"/> the scope it appears in.</summary>
    private static void AnalyzeNested(Node node, Symbols parent)
    {
        switch (node)
        {
            case ForStmt f:
            {
                foreach (var child in new Node[] { f.Iter }) AnalyzeNested(child, parent);
                var body = new Symbols(parent);
                var v = new FrameSymbolVisitor(body);
                v.Visit(f.Target, storeAsParam: true);
                body.DeclareParameter("loop");
                foreach (var s in f.Body) v.Visit(s);
                body.Export(f.BodyFrame);
                foreach (var s in f.Body) AnalyzeNested(s, body);

                var @else = new Symbols(parent);
                var ve = new FrameSymbolVisitor(@else);
                foreach (var s in f.Else) ve.Visit(s);
                @else.Export(f.ElseFrame);
                foreach (var s in f.Else) AnalyzeNested(s, @else);

                if (f.Test != null)
                {
                    var test = new Symbols(parent);
                    var vt = new FrameSymbolVisitor(test);
                    vt.Visit(f.Target, storeAsParam: true);
                    vt.Visit(f.Test);
                    test.Export(f.TestFrame);
                    AnalyzeNested(f.Test, test);
                }
                return;
            }
            case MacroLike m:
            {
                if (m is CallBlockStmt cb) AnalyzeNested(cb.Call, parent);
                var sym = new Symbols(parent);
                var undeclared = FindUndeclared(m.Body, ["caller", "kwargs", "varargs"]);
                var argNames = m.Args.Select(a => a.Name).ToHashSet();
                foreach (var a in m.Args) sym.DeclareParameter(a.Name);
                if (undeclared.Contains("caller") && !argNames.Contains("caller"))
                {
                    sym.DeclareParameter("caller");
                    m.AccessesCaller = true;
                }
                if (undeclared.Contains("kwargs") && !argNames.Contains("kwargs"))
                {
                    sym.DeclareParameter("kwargs");
                    m.AccessesKwargs = true;
                }
                if (undeclared.Contains("varargs") && !argNames.Contains("varargs"))
                {
                    sym.DeclareParameter("varargs");
                    m.AccessesVarargs = true;
                }
                var v = new FrameSymbolVisitor(sym);
                foreach (var d in m.Defaults) v.Visit(d);
                foreach (var s in m.Body) v.Visit(s);
                sym.Export(m.Frame);
                foreach (var d in m.Defaults) AnalyzeNested(d, sym);
                foreach (var s in m.Body) AnalyzeNested(s, sym);
                return;
            }
            case GenerationStmt g:
                AnalyzeBody(g.Body, parent, g.Frame);
                return;
            case FilterBlockStmt fb:
            {
                var sym = new Symbols(parent);
                var v = new FrameSymbolVisitor(sym);
                foreach (var s in fb.Body) v.Visit(s);
                v.Visit(fb.Filter);
                sym.Export(fb.Frame);
                foreach (var s in fb.Body) AnalyzeNested(s, sym);
                AnalyzeNested(fb.Filter, sym);
                return;
            }
            case AssignBlockStmt ab:
            {
                AnalyzeBody(ab.Body, parent, ab.Frame);
                if (ab.Filter != null) AnalyzeNested(ab.Filter, parent);
                return;
            }
            case WithStmt w:
            {
                foreach (var value in w.Values) AnalyzeNested(value, parent);
                var sym = new Symbols(parent);
                var v = new FrameSymbolVisitor(sym);
                foreach (var t in w.Targets) v.Visit(t);
                foreach (var s in w.Body) v.Visit(s);
                sym.Export(w.Frame);
                foreach (var s in w.Body) AnalyzeNested(s, sym);
                return;
            }
            default:
                foreach (var child in Children(node)) AnalyzeNested(child, parent);
                return;
        }
    }

    private static void AnalyzeBody(List<Stmt> body, Symbols parent, FrameInfo frame)
    {
        var sym = new Symbols(parent);
        var v = new FrameSymbolVisitor(sym);
        foreach (var s in body) v.Visit(s);
        sym.Export(frame);
        foreach (var s in body) AnalyzeNested(s, sym);
    }

    /// <summary>jinja2.compiler.find_undeclared: which of <paramref name="names"/> the nodes load before storing them.</summary>
    private static HashSet<string> FindUndeclared(IEnumerable<Node> nodes, string[] names)
    {
        var candidates = new HashSet<string>(names);
        var found = new HashSet<string>();
        void Walk(Node n)
        {
            if (n is NameExpr name)
            {
                if (name.Context == NameContext.Load && candidates.Contains(name.Name)) found.Add(name.Name);
                else candidates.Remove(name.Name);
                return;
            }
            foreach (var c in Children(n)) Walk(c);
        }
        foreach (var n in nodes) Walk(n);
        return found;
    }

    /// <summary>Every child node in jinja2's field order.</summary>
    public static IEnumerable<Node> Children(Node node)
    {
        switch (node)
        {
            case TemplateNode t: foreach (var s in t.Body) yield return s; break;
            case PrintStmt p: yield return p.Value; break;
            case IfStmt i:
                foreach (var (test, body) in i.Branches)
                {
                    yield return test;
                    foreach (var s in body) yield return s;
                }
                foreach (var s in i.Else) yield return s;
                break;
            case ForStmt f:
                yield return f.Target;
                yield return f.Iter;
                foreach (var s in f.Body) yield return s;
                foreach (var s in f.Else) yield return s;
                if (f.Test != null) yield return f.Test;
                break;
            case AssignStmt a:
                yield return a.Target;
                yield return a.Value;
                break;
            case AssignBlockStmt ab:
                yield return ab.Target;
                if (ab.Filter != null) yield return ab.Filter;
                foreach (var s in ab.Body) yield return s;
                break;
            case MacroLike m:
                if (m is CallBlockStmt cb) yield return cb.Call;
                foreach (var a in m.Args) yield return a;
                foreach (var d in m.Defaults) yield return d;
                foreach (var s in m.Body) yield return s;
                break;
            case FilterBlockStmt fb:
                foreach (var s in fb.Body) yield return s;
                yield return fb.Filter;
                break;
            case WithStmt w:
                foreach (var t in w.Targets) yield return t;
                foreach (var v in w.Values) yield return v;
                foreach (var s in w.Body) yield return s;
                break;
            case GenerationStmt g: foreach (var s in g.Body) yield return s; break;
            case TupleExpr t: foreach (var x in t.Items) yield return x; break;
            case ListExpr l: foreach (var x in l.Items) yield return x; break;
            case DictExpr d:
                foreach (var (k, v) in d.Items)
                {
                    yield return k;
                    yield return v;
                }
                break;
            case GetAttrExpr ga: yield return ga.Obj; break;
            case GetItemExpr gi:
                yield return gi.Obj;
                yield return gi.Arg;
                break;
            case SliceExpr sl:
                if (sl.Start != null) yield return sl.Start;
                if (sl.Stop != null) yield return sl.Stop;
                if (sl.Step != null) yield return sl.Step;
                break;
            case CallExpr c:
                yield return c.Func;
                foreach (var x in c.Args.All()) yield return x;
                break;
            case FilterExpr fe:
                if (fe.Operand != null) yield return fe.Operand;
                foreach (var x in fe.Args.All()) yield return x;
                break;
            case TestExpr te:
                yield return te.Operand;
                foreach (var x in te.Args.All()) yield return x;
                break;
            case CondExpr ce:
                yield return ce.Test;
                yield return ce.Then;
                if (ce.Otherwise != null) yield return ce.Otherwise;
                break;
            case AndExpr an:
                yield return an.Left;
                yield return an.Right;
                break;
            case OrExpr or:
                yield return or.Left;
                yield return or.Right;
                break;
            case NotExpr no: yield return no.Operand; break;
            case CompareExpr cmp:
                yield return cmp.First;
                foreach (var (_, e) in cmp.Ops) yield return e;
                break;
            case BinaryExpr b:
                yield return b.Left;
                yield return b.Right;
                break;
            case UnaryExpr u: yield return u.Operand; break;
            case ConcatExpr cc: foreach (var x in cc.Items) yield return x; break;
        }
    }

    /// <summary>jinja2.idtracking.Symbols: refs (names this scope owns), their load instruction, stores.</summary>
    private sealed class Symbols(Symbols? parent)
    {
        public Symbols? Parent { get; } = parent;
        public Dictionary<string, LoadKind> Refs { get; private set; } = new();
        public HashSet<string> Stores { get; private set; } = new();

        public bool FindRef(string name) => Refs.ContainsKey(name) || (Parent?.FindRef(name) ?? false);

        public void Store(string name)
        {
            Stores.Add(name);
            if (Refs.ContainsKey(name)) return;
            Refs[name] = Parent != null && Parent.FindRef(name) ? LoadKind.Alias : LoadKind.Undefined;
        }

        public void DeclareParameter(string name)
        {
            Stores.Add(name);
            Refs[name] = LoadKind.Parameter;
        }

        public void Load(string name)
        {
            if (!FindRef(name)) Refs[name] = LoadKind.Resolve;
        }

        public Symbols Copy() => new(Parent) { Refs = new(Refs), Stores = new(Stores) };

        public void BranchUpdate(IReadOnlyList<Symbols> branches)
        {
            var stores = new HashSet<string>();
            foreach (var b in branches) stores.UnionWith(b.Stores);
            stores.ExceptWith(Stores);
            foreach (var b in branches)
            {
                foreach (var (k, v) in b.Refs) Refs[k] = v;
                Stores.UnionWith(b.Stores);
            }
            foreach (var name in stores)
                Refs[name] = Parent != null && Parent.FindRef(name) ? LoadKind.Alias : LoadKind.Resolve;
        }

        public void Export(FrameInfo frame)
        {
            foreach (var (k, v) in Refs) frame.Loads.Add((k, v));
        }
    }

    /// <summary>jinja2.idtracking.FrameSymbolVisitor: records the names one scope stores and loads; does not enter nested scopes.</summary>
    private sealed class FrameSymbolVisitor(Symbols symbols)
    {
        private Symbols _symbols = symbols;

        public void Visit(Node node, bool storeAsParam = false)
        {
            switch (node)
            {
                case NameExpr n:
                    if (storeAsParam || n.Context == NameContext.Param) _symbols.DeclareParameter(n.Name);
                    else if (n.Context == NameContext.Store) _symbols.Store(n.Name);
                    else _symbols.Load(n.Name);
                    return;
                case TupleExpr t when storeAsParam:
                    foreach (var item in t.Items) Visit(item, storeAsParam: true);
                    return;
                case NsRefExpr ns:
                    _symbols.Load(ns.Name);
                    return;
                case IfStmt i:
                    VisitIf(i, 0);
                    return;
                case MacroStmt m:
                    _symbols.Store(m.Name);
                    return;
                case AssignStmt a:
                    Visit(a.Value);
                    Visit(a.Target);
                    return;
                case ForStmt f:
                    Visit(f.Iter);
                    return;
                case CallBlockStmt cb:
                    Visit(cb.Call);
                    return;
                case FilterBlockStmt fb:
                    Visit(fb.Filter);
                    return;
                case WithStmt w:
                    foreach (var v in w.Values) Visit(v);
                    return;
                case AssignBlockStmt ab:
                    Visit(ab.Target);
                    return;
                case GenerationStmt:
                    return;
                default:
                    foreach (var c in Children(node)) Visit(c);
                    return;
            }
        }

        /// <summary>
        /// jinja2's visit_If: the test, then the body, the elif nodes (one copy, each elif an If with empty
        /// branches of its own) and the else body, each on a copy of the symbols, merged by branch_update.
        /// </summary>
        private void VisitIf(IfStmt node, int index)
        {
            Visit(node.Branches[index].Test);
            var body = InnerVisit(() => { foreach (var s in node.Branches[index].Body) Visit(s); });
            var elif = InnerVisit(() =>
            {
                if (index != 0) return;
                for (int k = 1; k < node.Branches.Count; k++) VisitIf(node, k);
            });
            var @else = InnerVisit(() =>
            {
                if (index != 0) return;
                foreach (var s in node.Else) Visit(s);
            });
            _symbols.BranchUpdate([body, elif, @else]);
        }

        private Symbols InnerVisit(Action visit)
        {
            var original = _symbols;
            var rv = original.Copy();
            _symbols = rv;
            visit();
            _symbols = original;
            return rv;
        }
    }
}
