namespace DroSharp.Alignment.Training;

/// <summary>
/// The thresholds of <see cref="RunWarnings"/>, calibrated on the arena so that the runs with the
/// default settings stay quiet while the deliberately bad ones (LR 1e-4 with τ = 0.3, length
/// normalisation at a high LR) fire (docs/results.md).
/// </summary>
public sealed record WarningThresholds
{
    /// <summary>Running mean of the training log-ratio log π − log π_ref, nats per sequence, below which the policy is drifting away from everything it was shown.</summary>
    public double LogRatioFloor { get; init; } = -1.5;

    /// <summary>
    /// Without <c>--kl-bound</c>, the KL warning fires above this multiple of the optimum's KL estimated on the
    /// training rewards (<see cref="WarningContext.OptimumKl"/>; the factor covers the noise of 32 samples and
    /// data that are not π_ref's own samples), at least <see cref="KlBoundFloor"/> nats.
    /// </summary>
    public double KlBoundFactor { get; init; } = 2.0;

    public double KlBoundFloor { get; init; } = 0.5;

    /// <summary>EOS rate of the policy's held-out samples below which it warns (or below π_ref's own rate minus <see cref="EosMarginBelowReference"/>, if lower).</summary>
    public double EosRateFloor { get; init; } = 0.95;

    public double EosMarginBelowReference { get; init; } = 0.05;

    /// <summary>Relative change of the mean sampled length against π_ref's samples above which it warns.</summary>
    public double LengthChange { get; init; } = 0.4;

    /// <summary>The running mean of the training loss must stay under this multiple of its first logged value.</summary>
    public double LossFactor { get; init; } = 3.0;

    /// <summary>The running mean of the policy's gradient norm must stay above this fraction of its first logged value.</summary>
    public double GradientFloor { get; init; } = 0.01;

    /// <summary>Warmup longer than this fraction of the run warns (the LR peaks late or never).</summary>
    public double WarmupFraction { get; init; } = 0.5;

    /// <summary>A mean token log-prob below this fraction of −log V (V the vocabulary size) looks like an untrained model.</summary>
    public double UniformFraction { get; init; } = 0.9;

    /// <summary>Running means cover this fraction of the run, in logged lines (at least 2 and at most <see cref="MaxWindowLines"/>, never more than the run logs).</summary>
    public double WindowFraction { get; init; } = 0.1;

    public int MaxWindowLines { get; init; } = 5;
}
