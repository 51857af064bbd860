namespace DroSharp.Arena.Reports;

/// <summary>
/// A training run that stopped because its loss or a gradient stopped being finite, or a checkpoint whose
/// evaluation was not finite: the seed, learning rate and step, and the message. The experiment goes on; the
/// run's later steps are not candidates for selection.
/// </summary>
public sealed class DivergenceRecord
{
    public ulong Seed { get; set; }

    public double LearningRate { get; set; }

    /// <summary>The first step that was not finite.</summary>
    public int Step { get; set; }

    public string Message { get; set; } = "";
}
