namespace DroSharp.Arena.Reports;

/// <summary>
/// A training run that failed: it diverged (its loss or a gradient stopped being finite, or a checkpoint's
/// evaluation was not finite) or could not start (e.g. no thumbs-up rows for SFT on positives). The seed, learning
/// rate, step and message are kept; the experiment goes on, and the run's later steps are not candidates for selection.
/// </summary>
public sealed class RunFailure
{
    public ulong Seed { get; set; }

    public double LearningRate { get; set; }

    /// <summary>The first step that was not finite; 0 when the run could not start.</summary>
    public int Step { get; set; }

    /// <summary>True for a divergence, false for a run that could not start.</summary>
    public bool Diverged { get; set; }

    public string Message { get; set; } = "";
}
