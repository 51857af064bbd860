namespace DroSharp.Text.Templates;

/// <summary>
/// Recursion over template data (repr, ==, tojson) is bounded as Python bounds it: containers that hold themselves
/// print as <c>[...]</c> / <c>{...}</c> (repr) or are a ValueError (tojson), and nesting deeper than Python's
/// recursion limit is a RecursionError, instead of overflowing the stack (which would end the process).
/// </summary>
internal static class RecursionGuard
{
    /// <summary>Below Python's default limit of 1000 frames, which such templates reach first.</summary>
    private const int MaxDepth = 400;

    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static HashSet<object>? t_active;

    /// <summary>Counts one nesting level; call <see cref="Exit"/> in a finally.</summary>
    public static void Enter(string what)
    {
        if (++t_depth > MaxDepth)
        {
            t_depth = 0;
            t_active?.Clear();
            throw new PyException("RecursionError", $"maximum recursion depth exceeded {what}");
        }
    }

    public static void Exit() => t_depth = Math.Max(0, t_depth - 1);

    /// <summary>Marks <paramref name="container"/> as being walked; false when it already is (a cycle).</summary>
    public static bool TryBegin(object container) => (t_active ??= new HashSet<object>(ReferenceEqualityComparer.Instance)).Add(container);

    public static void End(object container) => t_active?.Remove(container);
}
