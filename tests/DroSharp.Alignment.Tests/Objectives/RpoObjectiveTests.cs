using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Objectives;

public class RpoObjectiveTests
{
    [Fact]
    public void PartitionValueOverTheWholeSupportIsVStarAndTrainingReachesPiStar()
    {
        // With every action of the context in the data, V̂ = τ log Σ_y π_ref(y) e^{r/τ} = V*.
        var bandit = TabularBandit.PaperFixture();
        const double tau = 1.0;
        double[] logpRef = bandit.Reference[0].Select(p => Math.Log(p)).ToArray();
        var partition = RpoObjective.EstimatePartitionValues([7, 7, 7, 7], logpRef, bandit.Rewards[0], tau);
        Assert.All(partition.Values, v => Assert.Equal(1.058508449351948, v, 1e-14));
        Assert.Equal(1, partition.PromptCount);
        Assert.Equal(0, partition.SingletonPromptCount);

        var rpo = new RpoObjective(tau);
        var (theta, _) = BanditTraining.ExactGradientDescent(bandit, rpo, steps: 2000, learningRate: 1.0,
            batchOverride: t => WithPartition(bandit.ExactBatch(t, null), partition.Values));
        double err = TabularBandit.MaxAbsDiff(bandit.Policy(theta), bandit.OptimalPolicy(tau));
        Assert.True(err < 1e-12, $"max |π − π*| = {err}");
    }

    [Fact]
    public void PartitionValuesGroupByPromptAndAreStable()
    {
        double[] logpRef = [-800.0, -801.0, -3.0, -2.0, -4.0];
        double[] r = [1.0, 0.0, 0.5, -0.5, 2.0];
        const double tau = 0.5;
        var p = RpoObjective.EstimatePartitionValues([1, 1, 2, 3, 2], logpRef, r, tau);
        double v1 = tau * (Math.Log(Math.Exp(r[0] / tau) + Math.Exp(-1.0 + r[1] / tau)) - 800.0);   // log-sum-exp, no underflow
        Assert.Equal(v1, p.Values[0], 1e-10);
        Assert.Equal(v1, p.Values[1], 1e-10);
        double v2 = tau * Math.Log(Math.Exp(-3.0 + r[2] / tau) + Math.Exp(-4.0 + r[4] / tau));
        Assert.Equal(v2, p.Values[2], 1e-13);
        Assert.Equal(v2, p.Values[4], 1e-13);
        Assert.Equal(tau * -2.0 + r[3], p.Values[3], 1e-13);   // a singleton: V̂ = τ log π_ref + r
        Assert.Equal(3, p.PromptCount);
        Assert.Equal(1, p.SingletonPromptCount);
    }

    [Fact]
    public void NoPromptWithSeveralResponsesIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => RpoObjective.EstimatePartitionValues([1, 2, 3], [-1.0, -2.0, -3.0], [0.0, 1.0, 0.5], 1.0));
        Assert.Contains("several responses", e.Message);
        Assert.True(new RpoObjective().Requirements.NeedsSeveralResponsesPerPrompt);
        Assert.Throws<ArgumentException>(() => RpoObjective.EstimatePartitionValues([1, 1], [-1.0], [0.0, 1.0], 1.0));
    }

    [Fact]
    public void GradientsMatchCentralFiniteDifferences()
    {
        var random = new DeterministicRandom(21);
        foreach (int b in new[] { 1, 7, 33 })
            foreach (double tau in new[] { 0.5, 1.0, 5.0 })
            {
                var batch = WithPartition(DroVObjectiveTests.RandomBatch(random, b), Enumerable.Range(0, b).Select(_ => random.NextDouble() * 3 - 1).ToArray());
                var rpo = new RpoObjective(tau);
                var result = rpo.Compute(batch);
                FiniteDifference.Check(rpo, batch, result.PolicyLogProbGradient, FiniteDifference.Input.PolicyLogProbs);
                // L = ½ mean (ℓ − (r − V̂)/τ)² = DRO-V's loss with V = V̂, divided by τ².
                double dro = new DroVObjective(tau).Compute(new ObjectiveBatch
                {
                    PolicyLogProbs = batch.PolicyLogProbs, ReferenceLogProbs = batch.ReferenceLogProbs, Rewards = batch.Rewards, Values = batch.PartitionValues,
                }).Loss;
                Assert.Equal(dro / (tau * tau), result.Loss, 1e-12);
            }
    }

    private static ObjectiveBatch WithPartition(ObjectiveBatch b, double[] partition) => new()
    {
        PolicyLogProbs = b.PolicyLogProbs, ReferenceLogProbs = b.ReferenceLogProbs, Rewards = b.Rewards, Weights = b.Weights, PartitionValues = partition,
    };
}
