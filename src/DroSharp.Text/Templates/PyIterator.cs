namespace DroSharp.Text.Templates;

/// <summary>
/// A one-shot Python iterator (a generator from <c>select</c>, <c>map</c>, <c>unique</c>, …, or
/// <c>reversed()</c>): it can be consumed once, has no length, and is always truthy, as in Python.
/// </summary>
internal sealed class PyIterator
{
    private readonly IEnumerator<object?> _source;

    public PyIterator(IEnumerable<object?> source, string typeName = "generator", string? qualifiedName = null)
    {
        _source = source.GetEnumerator();
        TypeName = typeName;
        QualifiedName = qualifiedName ?? typeName;
    }

    public string TypeName { get; }
    public string QualifiedName { get; }

    public IEnumerable<object?> Consume()
    {
        while (_source.MoveNext()) yield return _source.Current;
    }

    public override string ToString() => TypeName == "generator" ? $"<generator object {QualifiedName}>" : $"<{TypeName} object>";
}
