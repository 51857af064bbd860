using DroSharp.Arena.Reports;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tests.Reports;

/// <summary>
/// The π* estimate on a tabular case where the exact answer is known: π_ref a categorical over a few responses,
/// each with a rating ρ and a true reward r, π* ∝ π_ref·e^{ρ/τ} computed exactly.
/// </summary>
public sealed class KlRegularisedOptimumTests
{
    private static readonly double[] Reference = [0.4, 0.25, 0.2, 0.1, 0.05];
    private static readonly double[] Ratings = [-1.0, 0.0, 0.5, 1.5, 2.0];
    private static readonly double[] Rewards = [0.0, 0.3, 0.5, 0.9, 1.0];

    private static (double Reward, double Kl) Exact(double tau)
    {
        var w = Reference.Select((p, i) => p * Math.Exp(Ratings[i] / tau)).ToArray();
        double z = w.Sum();
        double reward = 0, kl = 0;
        for (int i = 0; i < w.Length; i++)
        {
            double pi = w[i] / z;
            reward += pi * Rewards[i];
            kl += pi * Math.Log(pi / Reference[i]);
        }
        return (reward, kl);
    }

    /// <summary><paramref name="prompts"/> prompts, each with <paramref name="k"/> draws from π_ref.</summary>
    private static (List<IReadOnlyList<double>> Ratings, List<IReadOnlyList<double>> Rewards) Draw(int prompts, int k, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var ratings = new List<IReadOnlyList<double>>();
        var rewards = new List<IReadOnlyList<double>>();
        for (int x = 0; x < prompts; x++)
        {
            var rho = new double[k];
            var r = new double[k];
            for (int i = 0; i < k; i++)
            {
                double u = rng.NextDouble(), c = 0;
                int j = 0;
                while (j < Reference.Length - 1 && u >= (c += Reference[j])) j++;
                rho[i] = Ratings[j];
                r[i] = Rewards[j];
            }
            ratings.Add(rho);
            rewards.Add(r);
        }
        return (ratings, rewards);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(5.0)]
    public void Estimate_IsWithinItsStandardErrorOfTheExactValue(double tau)
    {
        var (ratings, rewards) = Draw(prompts: 200, k: 64, seed: 11);
        var estimate = KlRegularisedOptimum.Estimate(ratings, rewards, tau);
        var exact = Exact(tau);
        Assert.InRange(estimate.StandardError, 1e-4, 0.02);
        Assert.InRange(estimate.ExpectedReward, exact.Reward - 4 * estimate.StandardError - 0.01, exact.Reward + 4 * estimate.StandardError + 0.01); // + SNIS bias O(1/K)
        Assert.Equal(exact.Kl, estimate.Kl, 0.03 + 0.1 * exact.Kl);
        Assert.Equal(Rewards.Zip(Reference, (r, p) => r * p).Sum(), estimate.ReferenceReward, 0.02);
        Assert.InRange(estimate.MeanEffectiveSampleSize, 1, 64);
        Assert.True(estimate.MinEffectiveSampleSize <= estimate.MeanEffectiveSampleSize);
        Assert.Equal(64, estimate.SamplesPerPrompt);
        Assert.Equal(200, estimate.Prompts);
    }

    [Fact]
    public void Estimate_ConvergesWithMoreSamples()
    {
        var exact = Exact(0.7);
        var (fewRatings, fewRewards) = Draw(1, 50, 3);
        var few = KlRegularisedOptimum.Estimate(fewRatings, fewRewards, 0.7);
        var (ratings, rewards) = Draw(1, 200_000, 3);
        var many = KlRegularisedOptimum.Estimate(ratings, rewards, 0.7);
        Assert.Equal(exact.Reward, many.ExpectedReward, 0.005);
        Assert.Equal(exact.Kl, many.Kl, 0.005);
        Assert.True(many.StandardError < few.StandardError / 20); // ∝ 1/√K: 1/√4000 ≈ 1/63
    }

    [Fact]
    public void EffectiveSampleSize_IsKForEqualWeights_AndOneForADominantWeight()
    {
        var equal = KlRegularisedOptimum.Estimate([new double[] { 0.3, 0.3, 0.3, 0.3 }], [new double[] { 0, 1, 0, 1 }], 1.0);
        Assert.Equal(4, equal.MeanEffectiveSampleSize, 12);
        Assert.Equal(0.5, equal.ExpectedReward, 12); // equal weights: the plain mean
        Assert.Equal(0, equal.Kl, 12);
        var dominant = KlRegularisedOptimum.Estimate([new double[] { 0, 0, 5, 0 }], [new double[] { 0, 0, 1, 0 }], 0.01);
        Assert.Equal(1, dominant.MeanEffectiveSampleSize, 9);
        Assert.Equal(1, dominant.ExpectedReward, 9);
        Assert.Equal(Math.Log(4), dominant.Kl, 9); // all mass on one of four equally likely samples
        Assert.True(double.IsFinite(KlRegularisedOptimum.Estimate([new double[] { 1e4, -1e4 }], [new double[] { 1, 0 }], 1e-3).ExpectedReward)); // no overflow
    }

    [Fact]
    public void Estimate_RefusesBadInput()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KlRegularisedOptimum.Estimate([new double[] { 1 }], [new double[] { 1 }], 0));
        Assert.Throws<ArgumentException>(() => KlRegularisedOptimum.Estimate([new double[] { 1, 2 }], [new double[] { 1 }], 1));
        Assert.Throws<ArgumentException>(() => KlRegularisedOptimum.Estimate([new double[] { double.NaN }], [new double[] { 1 }], 1));
        Assert.Throws<ArgumentException>(() => KlRegularisedOptimum.Estimate([], [], 1));
        Assert.Throws<ArgumentException>(() => KlRegularisedOptimum.Estimate([new double[] { 1, 2 }, new double[] { 1 }], [new double[] { 1, 2 }, new double[] { 1 }], 1));
    }
}
