using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>algorithms.md §8 fact 12 and finite differences.</summary>
public class DpoObjectiveTests
{
    [Fact]
    public void AtInitialisationLossIsLogTwoAndGradientIsMinusHalfBeta()
    {
        const double beta = 0.1;
        var batch = new ObjectiveBatch
        {
            PolicyLogProbs = [-4, -7, -2, -9], ReferenceLogProbs = [-4, -7, -2, -9],
            Pairs = [new(0, 1), new(2, 3)],
        };
        var result = new DpoObjective(beta).Compute(batch);
        Assert.Equal(Math.Log(2), result.Loss, 1e-15);
        Assert.Equal(0.693147, result.Loss, 1e-6);
        // Per pair ∂/∂(ℓ_w − ℓ_l) = −β/2; the loss is a mean over P = 2 pairs.
        Numerics.AssertClose([-beta / 4, beta / 4, -beta / 4, beta / 4], result.PolicyLogProbGradient, relative: 0, absolute: 1e-15);
        Assert.Equal(0.0, result.Metrics["rewards/accuracies"]);
        Assert.Equal(0.0, result.Metrics["rewards/margins"]);
        Assert.Equal(-3.0, result.Metrics["logps/chosen"]);
        Assert.Equal(-8.0, result.Metrics["logps/rejected"]);
    }

    [Fact]
    public void MetricsFollowTrl()
    {
        const double beta = 0.5;
        var batch = new ObjectiveBatch
        {
            PolicyLogProbs = [-3, -8, -2, -8], ReferenceLogProbs = [-4, -7, -2, -9],   // ℓ = [1, −1, 0, 1]
            Pairs = [new(0, 1), new(2, 3)],
        };
        var result = new DpoObjective(beta).Compute(batch);
        Assert.Equal(beta * (1 + 0) / 2, result.Metrics["rewards/chosen"], 1e-15);
        Assert.Equal(beta * (-1 + 1) / 2, result.Metrics["rewards/rejected"], 1e-15);
        Assert.Equal(0.5, result.Metrics["rewards/accuracies"], 1e-15);
        Assert.Equal(beta * ((1 - -1) + (0 - 1)) / 2, result.Metrics["rewards/margins"], 1e-15);
        double expected = (Math.Log(1 + Math.Exp(-beta * 2)) + Math.Log(1 + Math.Exp(beta * 1))) / 2;
        Assert.Equal(expected, result.Loss, 1e-15);
    }

    [Fact]
    public void RowsInSeveralPairsAccumulateAndBadPairsAreErrors()
    {
        var random = new DeterministicRandom(5);
        double[] logp = Enumerable.Range(0, 7).Select(_ => -10 * random.NextDouble() - 0.5).ToArray();
        double[] logpRef = Enumerable.Range(0, 7).Select(_ => -10 * random.NextDouble() - 0.5).ToArray();
        var batch = new ObjectiveBatch
        {
            PolicyLogProbs = logp, ReferenceLogProbs = logpRef,
            Pairs = [new(0, 1), new(0, 2), new(0, 3), new(4, 5), new(6, 1)],   // best vs others, as UltraFeedback pairs
        };
        foreach (double beta in new[] { 0.1, 1.0, 3.0 })
        {
            var dpo = new DpoObjective(beta);
            FiniteDifference.Check(dpo, batch, dpo.Compute(batch).PolicyLogProbGradient, FiniteDifference.Input.PolicyLogProbs);
        }
        Assert.Contains("outside the batch", Assert.Throws<ArgumentException>(() => new DpoObjective().Compute(
            new ObjectiveBatch { PolicyLogProbs = [-1, -2], ReferenceLogProbs = [-1, -2], Pairs = [new(0, 2)] })).Message);
        Assert.Contains("both chosen and rejected", Assert.Throws<ArgumentException>(() => new DpoObjective().Compute(
            new ObjectiveBatch { PolicyLogProbs = [-1, -2], ReferenceLogProbs = [-1, -2], Pairs = [new(1, 1)] })).Message);
        Assert.Contains("Pairs", Assert.Throws<ArgumentException>(() => new DpoObjective().Compute(
            new ObjectiveBatch { PolicyLogProbs = [-1, -2], ReferenceLogProbs = [-1, -2] })).Message);
    }
}
