namespace DroSharp.Arena.Reports;

/// <summary>One training run: its seed, its final evaluation and its evaluation curve during training.</summary>
public sealed class SeedResult
{
    public ulong Seed { get; set; }

    /// <summary>The test evaluation at the selected learning rate and step.</summary>
    public EvalMetrics Final { get; set; } = new();

    /// <summary>The validation evaluation at the selected point (sampled reward and win rate against SFT; no KL, no greedy).</summary>
    public EvalMetrics? Validation { get; set; }

    /// <summary>Test evaluations at every checkpoint of the selected learning rate, by increasing step; step 0 is π_ref (may be empty).</summary>
    public List<CurvePoint> Curve { get; set; } = [];

    /// <summary>Training time of the run at the selected learning rate.</summary>
    public double? TrainSeconds { get; set; }

    /// <summary>The training step final/ holds when the run selected its best checkpoint by a held-out metric.</summary>
    public long? FinalStep { get; set; }
}
