using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>algorithms.md §8 fact 11 (KTO with TRL semantics) and finite differences.</summary>
public class KtoObjectiveTests
{
    private static ObjectiveBatch Batch(double[] ratios, bool[] labels, double[] mismatchedRatios, double[]? rewards = null)
    {
        double[] reference = ratios.Select((_, i) => -5.0 - i).ToArray();
        double[] mismatchedReference = mismatchedRatios.Select((_, i) => -7.5 + 0.25 * i).ToArray();
        return new ObjectiveBatch
        {
            PolicyLogProbs = ratios.Zip(reference, (l, r) => r + l).ToArray(),
            ReferenceLogProbs = reference,
            Labels = labels,
            Rewards = rewards,
            MismatchedPolicyLogProbs = mismatchedRatios.Zip(mismatchedReference, (l, r) => r + l).ToArray(),
            MismatchedReferenceLogProbs = mismatchedReference,
        };
    }

    [Fact]
    public void FixtureLossesMatchTrl()
    {
        // β = 0.1, chosen log-ratios [1.0, −0.5], rejected [0.2], mismatched [0.3, 0.1, −0.1] → kl = 0.1.
        var kto = new KtoObjective();
        var result = kto.Compute(Batch([1.0, -0.5, 0.2], [true, true, false], [0.3, 0.1, -0.1]));
        Assert.Equal(0.1, result.Metrics["kl"], 1e-15);
        Assert.Equal(0.4775152, kto.ExampleLoss(1.0, 0.1, desirable: true), 1e-7);
        Assert.Equal(0.5149955, kto.ExampleLoss(-0.5, 0.1, desirable: true), 1e-7);
        Assert.Equal(0.5025000, kto.ExampleLoss(0.2, 0.1, desirable: false), 1e-7);
        Assert.Equal(0.4983369, result.Loss, 1e-7);
        Assert.Equal((0.4775152 + 0.5149955 + 0.5025000) / 3, result.Loss, 1e-7);

        Assert.Equal(0.1 * (1.0 - 0.5) / 2, result.Metrics["rewards/chosen"], 1e-15);
        Assert.Equal(0.1 * 0.2, result.Metrics["rewards/rejected"], 1e-15);
        Assert.Equal(0.025 - 0.02, result.Metrics["rewards/margins"], 1e-15);
        Assert.Equal((-4.0 + -6.5) / 2, result.Metrics["logps/chosen"], 1e-15);
        Assert.Equal(-6.8, result.Metrics["logps/rejected"], 1e-15);
        Assert.Equal(result.Loss, result.Metrics["loss"], 1e-15);
    }

    [Fact]
    public void KlIsClampedAtZeroAndCarriesNoGradient()
    {
        var kto = new KtoObjective();
        var clamped = kto.Compute(Batch([1.0, -0.5, 0.2], [true, true, false], [-0.3, -0.1, 0.1]));   // mean −0.1
        Assert.Equal(0.0, clamped.Metrics["kl"]);
        var zero = kto.Compute(Batch([1.0, -0.5, 0.2], [true, true, false], [0.0, 0.0, 0.0]));
        Assert.Equal(zero.Loss, clamped.Loss, 1e-15);
        Numerics.AssertClose(zero.PolicyLogProbGradient, clamped.PolicyLogProbGradient, relative: 0, absolute: 1e-15);
        Assert.Equal((1 - 1 / (1 + Math.Exp(-0.1))) + (1 - 1 / (1 + Math.Exp(0.05))) + (1 - 1 / (1 + Math.Exp(0.02))), 3 * clamped.Loss, 1e-14);
    }

    [Fact]
    public void AtInitialisationLossIsHalfTheWeightAndGradientIsMinusPlusWeightBetaOverFour()
    {
        const double beta = 0.1, wd = 1.3, wu = 0.7;
        var kto = new KtoObjective(beta, wd, wu);
        bool[] labels = [true, false, true, false, false];
        var result = kto.Compute(Batch(new double[5], labels, new double[5]));
        Assert.Equal(0.0, result.Metrics["kl"]);
        Assert.Equal((2 * 0.5 * wd + 3 * 0.5 * wu) / 5, result.Loss, 1e-15);
        for (int i = 0; i < 5; i++)
            Assert.Equal(labels[i] ? -wd * beta / 4 : wu * beta / 4, 5 * result.PolicyLogProbGradient[i], 1e-15);   // per-example: the loss is a mean over B = 5
    }

    [Fact]
    public void BatchMeanLabelsFollowThePaper()
    {
        Assert.Equal([false, false, true, true], KtoObjective.BatchMeanLabels([1.0, 2.0, 3.0, 4.0]));
        Assert.Equal([false, false, false], KtoObjective.BatchMeanLabels([0.5, 0.5, 0.5]));   // strictly above the mean
        double[] rewards = [0.3, -1.2, 2.0, 0.1, 0.9];
        double[] ratios = [0.4, -0.2, 0.1, 1.5, -0.7];
        double[] mismatched = [0.2, 0.3, -0.1, 0.4, 0.0];
        var paper = new KtoObjective(5.0, labelMode: KtoLabelMode.BatchMeanReward);
        Assert.True(paper.Requirements.Inputs.HasFlag(ObjectiveInputs.Rewards));
        Assert.False(paper.Requirements.Inputs.HasFlag(ObjectiveInputs.Labels));
        var byReward = paper.Compute(Batch(ratios, null!, mismatched, rewards));
        var byLabel = new KtoObjective(5.0).Compute(Batch(ratios, KtoObjective.BatchMeanLabels(rewards), mismatched));
        Assert.Equal(byLabel.Loss, byReward.Loss);
        Assert.Equal(byLabel.PolicyLogProbGradient, byReward.PolicyLogProbGradient);
    }

    [Fact]
    public void MismatchedPairsRotateCompletionsByOneAsTrl()
    {
        // TRL: KL_completion_ids = [completion_ids[-1]] + completion_ids[:-1].
        Assert.Equal([3, 0, 1, 2], Enumerable.Range(0, 4).Select(i => KtoObjective.MismatchedCompletionIndex(i, 4)));
        Assert.Equal([1, 0], Enumerable.Range(0, 2).Select(i => KtoObjective.MismatchedCompletionIndex(i, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => KtoObjective.MismatchedCompletionIndex(0, 1));
    }

    [Fact]
    public void MicroBatchOfOneIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => new KtoObjective().Compute(Batch([0.1], [true], [0.0])));
        Assert.Contains("at least 2 rows", e.Message);
        Assert.Equal(2, new KtoObjective().Requirements.MinimumBatchSize);
        Assert.True(new KtoObjective().Requirements.NeedsMismatchedLogProbs);
    }

    [Fact]
    public void ClassBalanceWarningFollowsTrl()
    {
        Assert.Null(KtoObjective.ClassBalanceWarning(50, 50, 1, 1));
        Assert.Null(KtoObjective.ClassBalanceWarning(100, 90, 1, 1));    // λ_U = 1 ∈ [0.84, 1.11]
        string? w = KtoObjective.ClassBalanceWarning(10, 100, 1, 1);    // 1:10
        Assert.NotNull(w);
        Assert.Contains("desirable_weight in [10, 13.3]", w);
        Assert.Contains("undesirable_weight in [0.08, 0.1]", w);
        Assert.Contains("(but NOT BOTH)", w);
        Assert.Null(KtoObjective.ClassBalanceWarning(10, 100, 12, 1));
        Assert.Null(KtoObjective.ClassBalanceWarning(10, 100, 1, 0.09));
        Assert.NotNull(KtoObjective.ClassBalanceWarning(10, 100, 14, 1));
        Assert.NotNull(KtoObjective.ClassBalanceWarning(0, 100, 1, 1));   // TRL counts max(n, 1)
    }

    [Fact]
    public void RejectsWeightsAndBadInput()
    {
        var b = Batch([0.1, 0.2], [true, false], [0.0, 0.0]);
        Assert.Throws<ArgumentException>(() => new KtoObjective().Compute(new ObjectiveBatch
        {
            PolicyLogProbs = b.PolicyLogProbs, ReferenceLogProbs = b.ReferenceLogProbs, Labels = b.Labels,
            MismatchedPolicyLogProbs = b.MismatchedPolicyLogProbs, MismatchedReferenceLogProbs = b.MismatchedReferenceLogProbs, Weights = [1, 2],
        }));
        var missing = Assert.Throws<ArgumentException>(() => new KtoObjective().Compute(new ObjectiveBatch
        {
            PolicyLogProbs = b.PolicyLogProbs, ReferenceLogProbs = b.ReferenceLogProbs, Labels = b.Labels,
        }));
        Assert.Contains("MismatchedPolicyLogProbs", missing.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new KtoObjective(beta: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KtoObjective(desirableWeight: -1));
    }

    [Fact]
    public void GradientsMatchCentralFiniteDifferences()
    {
        var random = new DeterministicRandom(11);
        foreach (int b in new[] { 2, 7, 33 })
            foreach (double beta in new[] { 0.1, 1.0, 5.0 })
            {
                double[] ratios = Enumerable.Range(0, b).Select(_ => -3 + 6 * random.NextDouble()).ToArray();
                bool[] labels = Enumerable.Range(0, b).Select(_ => random.NextDouble() < 0.5).ToArray();
                double[] mismatched = Enumerable.Range(0, b).Select(_ => -1 + 2.5 * random.NextDouble()).ToArray();
                var kto = new KtoObjective(beta, 1.2, 0.8);
                var batch = Batch(ratios, labels, mismatched);
                FiniteDifference.Check(kto, batch, kto.Compute(batch).PolicyLogProbGradient, FiniteDifference.Input.PolicyLogProbs);
            }
    }
}
