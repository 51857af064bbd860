namespace DroSharp.Text.Templates;

/// <summary>
/// The variables of one scope at run time; <see cref="Missing"/> marks a variable that the scope owns but that
/// is not set yet (reading it gives Undefined). Lookups walk to the enclosing scopes, as Jinja2's compiled
/// code reads the enclosing function's locals.
/// </summary>
internal sealed class Frame(Frame? parent)
{
    public static readonly object Missing = new();

    public Frame? Parent { get; } = parent;
    public Dictionary<string, object?> Vars { get; } = new();

    /// <summary>The nearest frame owning <paramref name="name"/>, its raw value (possibly <see cref="Missing"/>).</summary>
    public bool TryFind(string name, out object? value)
    {
        for (var f = this; f != null; f = f.Parent)
            if (f.Vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }
}
