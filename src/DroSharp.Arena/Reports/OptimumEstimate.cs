namespace DroSharp.Arena.Reports;

/// <summary>
/// A Monte-Carlo estimate of the KL-regularised optimum π*(y|x) ∝ π_ref(y|x)·exp(ρ(x, y)/τ) on fixed prompts, by
/// self-normalised importance sampling from π_ref (<see cref="KlRegularisedOptimum"/>). ρ is what the objective
/// sees (the rater's expected, normalised rating); <see cref="ExpectedReward"/> is π*'s mean true reward.
/// </summary>
public sealed class OptimumEstimate
{
    /// <summary>The experiment seed whose π_ref and feedback normalisation were used.</summary>
    public ulong Seed { get; set; }

    public double Tau { get; set; }

    /// <summary>Mean over prompts of E_{π*}[r(x, y)].</summary>
    public double ExpectedReward { get; set; }

    /// <summary>Monte-Carlo standard error of <see cref="ExpectedReward"/> (delta method, prompts independent).</summary>
    public double StandardError { get; set; }

    /// <summary>Mean over prompts of KL(π*‖π_ref) = E_{π*}[ρ]/τ − log E_{π_ref}[e^{ρ/τ}] (plug-in; nats).</summary>
    public double Kl { get; set; }

    /// <summary>Mean over prompts of π_ref's reward on the same samples (the estimate's starting point).</summary>
    public double ReferenceReward { get; set; }

    /// <summary>Mean over prompts of the effective sample size (Σw)²/Σw² of the importance weights.</summary>
    public double MeanEffectiveSampleSize { get; set; }

    /// <summary>Smallest per-prompt effective sample size.</summary>
    public double MinEffectiveSampleSize { get; set; }

    /// <summary>Samples of π_ref per prompt.</summary>
    public int SamplesPerPrompt { get; set; }

    public int Prompts { get; set; }
}
