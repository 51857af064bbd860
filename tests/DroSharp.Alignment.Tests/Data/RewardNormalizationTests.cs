using DroSharp.Alignment.Data;

namespace DroSharp.Alignment.Tests.Data;

public class RewardNormalizationTests
{
    [Fact]
    public void StatisticsUsePopulationStd()
    {
        var s = RewardStatistics.Compute([1, 2, 3, 4]);
        Assert.Equal(4, s.Count);
        Assert.Equal(2.5, s.Mean);
        Assert.Equal(Math.Sqrt(1.25), s.Std, 15);
        Assert.Equal(1, s.Min);
        Assert.Equal(4, s.Max);
        Assert.Throws<ArgumentException>(() => RewardStatistics.Compute([]));
    }

    [Fact]
    public void NormalisedTrainingRewardsHaveMeanZeroAndUnitVariance()
    {
        var rng = new DroSharp.Tensors.DeterministicRandom(11);
        var raw = Enumerable.Range(0, 333).Select(_ => 3.7 + 2.9 * rng.NextGaussian()).ToArray();
        var n = RewardNormalizer.Fit(raw);
        Assert.False(n.IsConstant);
        var z = raw.Select(n.Normalize).ToArray();
        var s = RewardStatistics.Compute(z);
        Assert.Equal(0, s.Mean, 12);
        Assert.Equal(1, s.Std, 12);
        Assert.Equal((raw[5] - n.Mean) / n.Std, z[5]);
    }

    [Fact]
    public void KnownValues()
    {
        var n = RewardNormalizer.Fit([1, 2, 3, 4]);
        double sd = Math.Sqrt(1.25);
        Assert.Equal(-1.5 / sd, n.Normalize(1), 14);
        Assert.Equal(1.5 / sd, n.Normalize(4), 14);
        // Eval rewards use the training mean and std, so they need not be centred.
        Assert.Equal((10 - 2.5) / sd, n.Normalize(10), 14);
    }

    [Fact]
    public void ConstantRewardsSubtractTheMeanWithoutDividingByZero()
    {
        var n = RewardNormalizer.Fit([0.7, 0.7, 0.7]);
        Assert.True(n.IsConstant);
        Assert.True(n.Std < 1e-15); // the mean 0.7 is not exact in binary, so the std is rounding noise, not 0
        Assert.Equal(0, n.Normalize(0.7), 15);
        Assert.Equal(0.3, n.Normalize(1.0), 12);
        Assert.True(RewardNormalizer.Fit([1e6, 1e6 + 1e-9]).IsConstant); // std lost in rounding relative to the mean
        Assert.False(RewardNormalizer.Fit([0, 1e-6]).IsConstant);
    }

    [Fact]
    public void RejectsNonFiniteParameters()
    {
        Assert.Throws<ArgumentException>(() => new RewardNormalizer(double.NaN, 1));
        Assert.Throws<ArgumentException>(() => new RewardNormalizer(0, -1));
    }
}
