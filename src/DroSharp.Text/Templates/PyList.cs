namespace DroSharp.Text.Templates;

/// <summary>A Python <c>list</c> or (with <see cref="IsTuple"/>) <c>tuple</c>. Never mutated after construction (immutable sandbox).</summary>
internal sealed class PyList
{
    public PyList(List<object?> items, bool isTuple = false)
    {
        Items = items;
        IsTuple = isTuple;
    }

    public List<object?> Items { get; }
    public bool IsTuple { get; }
    public int Count => Items.Count;

    public static PyList Tuple(params object?[] items) => new(new List<object?>(items), isTuple: true);
}
