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

    /// <summary>The user's <c>--kl-bound</c>, which replaces the default.</summary>
    public double? KlBound { get; init; }

    /// <summary>
    /// Multiplies the logged log-ratio into nats per sequence: 1, or the mean completion length when
    /// log-probs are length-normalised (then the logged value is per token).
    /// </summary>
    public double LogRatioScale { get; init; } = 1;

    /// <summary>The KL bound in force: <see cref="KlBound"/>, else factor × range / regularisation, else none.</summary>
    public double? EffectiveKlBound(WarningThresholds t) =>
        KlBound ?? (Regularisation is double c && RewardRange is double range && range > 0 ? t.KlBoundFactor * range / c : null);
}
