namespace DroSharp.Arena.Reports;

/// <summary>
/// How an algorithm's learning rate and step were chosen: the grid, the criterion and the choice. The reported
/// (test) numbers of the algorithm are those of the chosen point.
/// </summary>
public sealed class SelectionResult
{
    /// <summary>The rule, in words (e.g. "highest mean over seeds of the win rate against SFT on 256 validation prompts").</summary>
    public string Criterion { get; set; } = "";

    /// <summary>The chosen learning rate; null when no grid point was eligible (every setting diverged on some seed).</summary>
    public double? LearningRate { get; set; }

    /// <summary>The chosen step; null when no grid point was eligible.</summary>
    public int? Step { get; set; }

    /// <summary>Every grid point, by learning rate then step.</summary>
    public List<GridPoint> Grid { get; set; } = [];
}
