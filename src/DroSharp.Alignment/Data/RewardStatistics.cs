namespace DroSharp.Alignment.Data;

/// <summary>Count, mean, population standard deviation, min and max of a set of rewards.</summary>
public sealed record RewardStatistics(int Count, double Mean, double Std, double Min, double Max)
{
    /// <summary>
    /// Two passes in double: mean = Σr/n, std = sqrt(Σ(r − mean)²/n) (population, as the DRO paper's z-scores).
    /// Rewards beyond ±1e150 (whose squares or sums would overflow) are divided by the largest magnitude s
    /// first and the results multiplied back: mean = s·mean(r/s), std = s·std(r/s).
    /// </summary>
    public static RewardStatistics Compute(ReadOnlySpan<double> values)
    {
        if (values.Length == 0) throw new ArgumentException("no rewards to summarise", nameof(values));
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        double magnitude = Math.Max(Math.Abs(min), Math.Abs(max));
        double scale = magnitude > 1e150 && double.IsFinite(magnitude) ? magnitude : 1; // 1: exact, the usual case
        double sum = 0;
        foreach (double v in values) sum += v / scale;
        double mean = sum / values.Length;
        double ss = 0;
        foreach (double v in values) ss += (v / scale - mean) * (v / scale - mean);
        return new RewardStatistics(values.Length, mean * scale, Math.Sqrt(ss / values.Length) * scale, min, max);
    }
}
