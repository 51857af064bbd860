namespace DroSharp.Alignment.Objectives;

/// <summary>The hyper-parameters of every objective, with their defaults (the CLI's <c>--tau</c>, <c>--beta</c>, …).</summary>
public sealed record ObjectiveOptions
{
    /// <summary>τ for DRO-V, DRO-P and RPO (paper default 1).</summary>
    public double Tau { get; init; } = 1.0;

    /// <summary>β for KTO and DPO (TRL default 0.1).</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary>KTO λ_D.</summary>
    public double DesirableWeight { get; init; } = 1.0;

    /// <summary>KTO λ_U.</summary>
    public double UndesirableWeight { get; init; } = 1.0;

    public KtoLabelMode KtoLabels { get; init; } = KtoLabelMode.Labels;

    public DroValueMode ValueMode { get; init; } = DroValueMode.PerExample;

    /// <summary>DRO-V/DRO-P: scale the policy gradient by 1/τ (S1 §3.3).</summary>
    public bool RescalePolicyGradient { get; init; } = true;

    public SftNormalization SftNormalization { get; init; } = SftNormalization.PerToken;
}
