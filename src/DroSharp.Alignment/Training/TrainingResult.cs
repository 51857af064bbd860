namespace DroSharp.Alignment.Training;

/// <summary>How a training run ended.</summary>
/// <param name="SelectedStep">The step final/ holds when held-out evaluations chose it (<c>--select-by</c>); null when the run had none.</param>
public sealed record TrainingResult(long Steps, long TotalSteps, bool Interrupted, string? FinalDirectory, string? LastCheckpoint,
    IReadOnlyDictionary<string, double> LastMetrics, double ElapsedSeconds, long? SelectedStep = null);
