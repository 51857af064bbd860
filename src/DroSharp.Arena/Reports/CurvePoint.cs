namespace DroSharp.Arena.Reports;

/// <summary>An evaluation during training, at optimiser step <see cref="Step"/>. Null means "not measured at this step".</summary>
public sealed class CurvePoint
{
    public int Step { get; set; }

    public double? SampledReward { get; set; }

    public double? GreedyReward { get; set; }

    public double? WinRateVsSft { get; set; }

    public double? Kl { get; set; }

    /// <summary>Training loss averaged since the previous point.</summary>
    public double? Loss { get; set; }
}
