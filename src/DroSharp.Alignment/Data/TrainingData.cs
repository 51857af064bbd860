namespace DroSharp.Alignment.Data;

/// <summary>The training split, the optional eval split, the reward normalisation fitted on training, and what was left out.</summary>
public sealed class TrainingData(
    PreparedSplit train,
    PreparedSplit? eval,
    RewardNormalizer? normalizer,
    IReadOnlyList<SkippedRow> skippedRows,
    IReadOnlyList<string> warnings)
{
    public PreparedSplit Train { get; } = train;

    public PreparedSplit? Eval { get; } = eval;

    /// <summary>The z-normalisation applied to both splits, or null when switched off or without rewards.</summary>
    public RewardNormalizer? Normalizer { get; } = normalizer;

    /// <summary>Every row left out under skip-bad-rows (reading or encoding), training file first; for the run directory.</summary>
    public IReadOnlyList<SkippedRow> SkippedRows { get; } = skippedRows;

    /// <summary>Every warning, for the console and the run.</summary>
    public IReadOnlyList<string> Warnings { get; } = warnings;
}
