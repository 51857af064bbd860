using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Objectives;

public class SftObjectiveTests
{
    [Fact]
    public void PerTokenAndPerSequenceNormalisation()
    {
        var batch = new ObjectiveBatch { PolicyLogProbs = [-6.0, -2.0, -10.0], TokenCounts = [3, 1, 6] };
        var perToken = new SftObjective().Compute(batch);
        Assert.Equal(18.0 / 10, perToken.Loss, 1e-15);
        Assert.All(perToken.PolicyLogProbGradient, g => Assert.Equal(-0.1, g, 1e-15));
        var perSequence = new SftObjective(SftNormalization.PerSequence).Compute(batch);
        Assert.Equal(6.0, perSequence.Loss, 1e-15);
        Assert.All(perSequence.PolicyLogProbGradient, g => Assert.Equal(-1.0 / 3, g, 1e-15));
        Assert.Equal(-6.0, perSequence.Metrics["logps/mean"], 1e-15);
        Assert.True(new SftObjective().Requirements.Inputs.HasFlag(ObjectiveInputs.TokenCounts));
        Assert.False(new SftObjective().Requirements.NeedsReference);
        Assert.Contains("TokenCounts", Assert.Throws<ArgumentException>(() => new SftObjective().Compute(new ObjectiveBatch { PolicyLogProbs = [-1] })).Message);
        Assert.Contains("TokenCounts[0]", Assert.Throws<ArgumentException>(() => new SftObjective().Compute(new ObjectiveBatch { PolicyLogProbs = [-1], TokenCounts = [0] })).Message);
    }

    [Fact]
    public void ExactGradientDescentMovesThePolicyToTheBehaviourPolicy()
    {
        // Maximum likelihood on data from μ: π → μ.
        var bandit = TabularBandit.PaperFixture();
        var (theta, _) = BanditTraining.ExactGradientDescent(bandit, new SftObjective(SftNormalization.PerSequence), steps: 3000, learningRate: 2.0);
        Assert.True(TabularBandit.MaxAbsDiff(bandit.Policy(theta), bandit.Behaviour) < 1e-10);
    }

    [Fact]
    public void PositivesOnlyHelpersAndFiniteDifferences()
    {
        Assert.Equal([0, 2], SftObjective.PositiveIndices([true, false, true]));
        Assert.Equal([1, 3], SftObjective.PositiveIndices([0.0, 0.7, 0.5, 2.0], 0.5));
        Assert.Throws<ArgumentException>(() => SftObjective.PositiveIndices([false, false]));
        Assert.Throws<ArgumentException>(() => SftObjective.PositiveIndices([0.1, 0.2], 1.0));
        Assert.True(new SftObjective(positivesOnly: true).Requirements.PositivesOnly);
        Assert.Equal("sft-pos", new SftObjective(positivesOnly: true).Name);

        var random = new DeterministicRandom(9);
        double[] logp = Enumerable.Range(0, 7).Select(_ => -20 * random.NextDouble()).ToArray();
        var batch = new ObjectiveBatch { PolicyLogProbs = logp, TokenCounts = [3, 5, 1, 9, 2, 2, 4], Weights = null };
        foreach (var sft in new[] { new SftObjective(), new SftObjective(SftNormalization.PerSequence) })
            FiniteDifference.Check(sft, batch, sft.Compute(batch).PolicyLogProbGradient, FiniteDifference.Input.PolicyLogProbs);
    }
}
