namespace DroSharp.Alignment.Training;

/// <summary>How a training run ended.</summary>
public sealed record TrainingResult(long Steps, long TotalSteps, bool Interrupted, string? FinalDirectory, string? LastCheckpoint,
    IReadOnlyDictionary<string, double> LastMetrics, double ElapsedSeconds);
