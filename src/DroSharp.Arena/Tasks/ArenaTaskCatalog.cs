namespace DroSharp.Arena.Tasks;

/// <summary>The arena's tasks by name, for the command line and the experiment runner.</summary>
public static class ArenaTaskCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["sentiment", "arithmetic"];

    /// <summary>The task with its default options; a clear error naming the known tasks otherwise.</summary>
    public static ArenaTask Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "sentiment" => new SentimentTask(),
            "arithmetic" => new ArithmeticTask(),
            _ => throw new ArgumentException($"unknown arena task '{name}'; known tasks: {string.Join(", ", Names)}", nameof(name)),
        };
    }
}
