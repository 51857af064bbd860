namespace DroSharp.Arena.Reports;

/// <summary>
/// One setting of an algorithm's selection grid (learning rate × checkpoint step) with its validation scores over
/// seeds. Only validation prompts enter here; test prompts never choose anything.
/// </summary>
public sealed class GridPoint
{
    public double LearningRate { get; set; }

    public int Step { get; set; }

    /// <summary>Mean over the seeds that reached this point of the validation win rate against SFT; null when none did.</summary>
    public double? ValidationWinRate { get; set; }

    /// <summary>Sample standard deviation of the validation win rate over those seeds.</summary>
    public double? ValidationWinRateStd { get; set; }

    /// <summary>Mean over those seeds of the mean true reward of one sample per validation prompt.</summary>
    public double? ValidationReward { get; set; }

    /// <summary>Seeds that reached this point with a finite evaluation.</summary>
    public int Seeds { get; set; }

    /// <summary>True when every seed reached it (a run that diverged earlier on some seed makes it ineligible).</summary>
    public bool Eligible { get; set; }
}
