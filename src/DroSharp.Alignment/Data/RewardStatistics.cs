namespace DroSharp.Alignment.Data;

/// <summary>Count, mean, population standard deviation, min and max of a set of rewards.</summary>
public sealed record RewardStatistics(int Count, double Mean, double Std, double Min, double Max)
{
    /// <summary>Two passes in double: mean = Σr/n, std = sqrt(Σ(r − mean)²/n) (population, as the DRO paper's z-scores).</summary>
    public static RewardStatistics Compute(ReadOnlySpan<double> values)
    {
        if (values.Length == 0) throw new ArgumentException("no rewards to summarise", nameof(values));
        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        double mean = sum / values.Length;
        double ss = 0;
        foreach (double v in values) ss += (v - mean) * (v - mean);
        return new RewardStatistics(values.Length, mean, Math.Sqrt(ss / values.Length), min, max);
    }
}
