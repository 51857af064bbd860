namespace DroSharp.Alignment.Data;

/// <summary>
/// z-normalisation fitted on the training rewards: z = (r − mean) / std with the population std, so the training
/// rewards get mean 0 and variance 1 (DRO paper §5). The same mean and std are applied to the eval split. When the
/// training rewards are constant (std ≈ 0) only the mean is subtracted — no division by zero — and
/// <see cref="IsConstant"/> tells the caller to warn.
/// </summary>
public sealed class RewardNormalizer
{
    public RewardNormalizer(double mean, double std)
    {
        if (!double.IsFinite(mean) || !double.IsFinite(std) || std < 0)
            throw new ArgumentException($"reward normaliser needs a finite mean and a finite std ≥ 0, got mean {mean}, std {std}");
        Mean = mean;
        Std = std;
    }

    public double Mean { get; }

    public double Std { get; }

    /// <summary>True when the std is zero or lost in rounding relative to the mean.</summary>
    public bool IsConstant => Std <= 1e-12 * Math.Max(1.0, Math.Abs(Mean));

    public static RewardNormalizer Fit(ReadOnlySpan<double> trainRewards)
    {
        var s = RewardStatistics.Compute(trainRewards);
        return new RewardNormalizer(s.Mean, s.Std);
    }

    public double Normalize(double reward)
    {
        if (IsConstant) return reward - Mean;
        double z = (reward - Mean) / Std;
        // reward − mean overflows only for rewards near ±1.8e308 of opposite signs: divide first.
        return double.IsFinite(z) ? z : reward / Std - Mean / Std;
    }
}
