namespace DroSharp.Alignment.Training;

/// <summary>What <see cref="RunWarnings"/> needs to know of a run to judge its metrics.</summary>
public sealed record WarningContext
{
    public required string Algo { get; init; }

    public required long TotalSteps { get; init; }

    public int LogEvery { get; init; } = 10;

    /// <summary>τ (DRO-V, DRO-P, RPO) or β (KTO, DPO); null for the SFT objectives (no KL regularisation).</summary>
    public double? Regularisation { get; init; }

    /// <summary>"τ" or "β", for messages.</summary>
    public string RegularisationName { get; init; } = "τ";

    /// <summary>max r − min r over the training rows (after normalisation), for the default KL bound.</summary>
    public double? RewardRange { get; init; }

    /// <summary>max r − mean r over the training rows, for the log-ratio floor of the τ objectives.</summary>
    public double? RewardHeadroom { get; init; }

    /// <summary>
    /// True when the objective's fixed point is π* ∝ π_ref·e^{r/τ} (DRO-V, DRO-P, RPO): then the mean
    /// log-ratio on π_ref's samples at π* is (E r − V*)/τ ≥ −(max r − mean r)/τ, which sets the drift floor.
    /// </summary>
    public bool KlRegularisedOptimum { get; init; }

    /// <summary>
    /// KL(π*‖π_ref) of the regularised optimum estimated on the training rewards: the KL of the rewards'
    /// exponential tilt, mean(w·log w) with w ∝ e^{r/τ} normalised to mean 1 (exact for π* ∝ π_ref·e^{r/τ}
    /// when the rows are samples of π_ref and the reward depends on the response alone). See <see cref="OptimumKlEstimate"/>.
    /// </summary>
    public double? OptimumKl { get; init; }

    /// <summary>The user's <c>--kl-bound</c>, which replaces the default.</summary>
    public double? KlBound { get; init; }

    /// <summary>
    /// Multiplies the logged log-ratio into nats per sequence: 1, or the mean completion length when
    /// log-probs are length-normalised (then the logged value is per token).
    /// </summary>
    public double LogRatioScale { get; init; } = 1;

    /// <summary>
    /// The log-ratio floor in force: −max(1.5, (max r − mean r)/τ) for the τ objectives (the regularised
    /// optimum itself may sit at −(max r − mean r)/τ when τ is small), the fixed −1.5 for the others.
    /// </summary>
    public double EffectiveLogRatioFloor(WarningThresholds t) =>
        KlRegularisedOptimum && Regularisation is double tau && RewardHeadroom is double h && h > 0
            ? Math.Min(t.LogRatioFloor, -h / tau)
            : t.LogRatioFloor;

    /// <summary>
    /// The KL bound in force: <see cref="KlBound"/> when given; else max(0.5, factor × <see cref="OptimumKl"/>)
    /// nats, never above (max r − min r)/τ, the most KL(π*‖π_ref) can be; none without a regulariser.
    /// </summary>
    public double? EffectiveKlBound(WarningThresholds t)
    {
        if (KlBound is double given) return given;
        if (Regularisation is not double c || RewardRange is not double range || !(range > 0)) return null;
        double ceiling = range / c;
        return OptimumKl is double k ? Math.Min(ceiling, Math.Max(t.KlBoundFloor, t.KlBoundFactor * k)) : ceiling;
    }

    /// <summary>mean(w·log w), w = e^{r/c} / mean(e^{r/c}) over <paramref name="rewards"/> (stable for small c).</summary>
    public static double OptimumKlEstimate(IReadOnlyList<double> rewards, double c)
    {
        if (rewards.Count == 0) return 0;
        double max = rewards.Max();
        double mean = rewards.Average(r => Math.Exp((r - max) / c));
        double kl = 0;
        foreach (double r in rewards)
        {
            double w = Math.Exp((r - max) / c) / mean;
            if (w > 0) kl += w * Math.Log(w);
        }
        return kl / rewards.Count;
    }
}
