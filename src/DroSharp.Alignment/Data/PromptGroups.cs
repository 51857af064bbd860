namespace DroSharp.Alignment.Data;

/// <summary>
/// Examples grouped by identical prompt ids (what the model sees, so after truncation), in order of first
/// appearance, each group's indices ascending. RPO needs several responses per prompt; the summary reports them.
/// </summary>
public sealed class PromptGroups
{
    private readonly int[] _groupOf;

    private PromptGroups(List<int[]> groups, int[] groupOf)
    {
        Groups = groups;
        _groupOf = groupOf;
        foreach (var g in groups)
        {
            if (g.Length > 1) WithSeveralResponses++;
            if (g.Length > MaxResponses) MaxResponses = g.Length;
        }
    }

    /// <summary>Example indices per distinct prompt.</summary>
    public IReadOnlyList<int[]> Groups { get; }

    public int Count => Groups.Count;

    /// <summary>Prompts that have more than one response.</summary>
    public int WithSeveralResponses { get; }

    public int MaxResponses { get; }

    /// <summary>The index in <see cref="Groups"/> of example <paramref name="example"/>'s prompt.</summary>
    public int GroupOf(int example) => _groupOf[example];

    public static PromptGroups Build(IReadOnlyList<int[]> promptIds)
    {
        var index = new Dictionary<int[], int>(SequenceComparer.Instance);
        var members = new List<List<int>>();
        var groupOf = new int[promptIds.Count];
        for (int i = 0; i < promptIds.Count; i++)
        {
            if (!index.TryGetValue(promptIds[i], out int g))
            {
                g = members.Count;
                index.Add(promptIds[i], g);
                members.Add([]);
            }
            members[g].Add(i);
            groupOf[i] = g;
        }
        return new PromptGroups(members.Select(m => m.ToArray()).ToList(), groupOf);
    }

    private sealed class SequenceComparer : IEqualityComparer<int[]>
    {
        public static readonly SequenceComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] ids)
        {
            var h = new HashCode();
            h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
            return h.ToHashCode();
        }
    }
}
