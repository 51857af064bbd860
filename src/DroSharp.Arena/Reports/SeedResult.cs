namespace DroSharp.Arena.Reports;

/// <summary>One training run: its seed, its final evaluation and its evaluation curve during training.</summary>
public sealed class SeedResult
{
    public ulong Seed { get; set; }

    public EvalMetrics Final { get; set; } = new();

    /// <summary>Evaluations during training, by increasing step (may be empty).</summary>
    public List<CurvePoint> Curve { get; set; } = [];

    public double? TrainSeconds { get; set; }

    /// <summary>The training step final/ holds when the run selected its best checkpoint by a held-out metric.</summary>
    public long? FinalStep { get; set; }
}
