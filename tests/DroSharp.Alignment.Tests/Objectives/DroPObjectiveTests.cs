using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>algorithms.md §8 fact 4 (DRO-P) and the §2.4 gradient.</summary>
public class DroPObjectiveTests
{
    [Fact]
    public void ExactVarianceGivesPiStar()
    {
        // ½ Var_{y~μ}[r − τ log(π/π_ref)] on one context, as a weighted batch: same π* as DRO-V.
        var bandit = TabularBandit.PaperFixture();
        foreach (double tau in new[] { 0.5, 1.0, 2.0 })
        {
            var (theta, _) = BanditTraining.ExactGradientDescent(bandit, new DroPObjective(tau), steps: 4000, learningRate: 1.0);
            double err = TabularBandit.MaxAbsDiff(bandit.Policy(theta), bandit.OptimalPolicy(tau));
            Assert.True(err < 1e-12, $"τ={tau}: max |π − π*| = {err}");
        }
    }

    [Fact]
    public void GradientIsTheCentredAdvantagePlusTheVarianceOfTheLogRatio()
    {
        // Rescaled: ∂L/∂logπᵢ = −(1/B)(rᵢ − r̄) + (τ/B)(ℓᵢ − ℓ̄).
        double[] r = [1.0, -0.5, 0.25, 2.0, -1.0];
        double[] ratios = [0.3, -0.2, 0.0, 0.7, -0.4];
        double[] reference = [-3, -4, -5, -6, -7];
        var batch = new ObjectiveBatch { PolicyLogProbs = ratios.Zip(reference, (l, f) => l + f).ToArray(), ReferenceLogProbs = reference, Rewards = r };
        const double tau = 1.7;
        double rBar = r.Average(), lBar = ratios.Average();
        var result = new DroPObjective(tau).Compute(batch);
        Numerics.AssertClose(r.Select((ri, i) => -(ri - rBar) / 5 + tau * (ratios[i] - lBar) / 5).ToArray(), result.PolicyLogProbGradient, relative: 0, absolute: 1e-15);
        double[] u = r.Select((ri, i) => ri - tau * ratios[i]).ToArray();
        Assert.Equal(0.5 * u.Select(x => (x - u.Average()) * (x - u.Average())).Average(), result.Loss, 1e-15);
    }

    [Fact]
    public void GradientsMatchCentralFiniteDifferences()
    {
        var random = new DeterministicRandom(3);
        foreach (int b in new[] { 2, 7, 33 })
            foreach (double tau in new[] { 0.2, 1.0, 4.0 })
            {
                var batch = DroVObjectiveTests.RandomBatch(random, b);
                var raw = new DroPObjective(tau, rescalePolicyGradient: false);
                var result = raw.Compute(batch);
                FiniteDifference.Check(raw, batch, result.PolicyLogProbGradient, FiniteDifference.Input.PolicyLogProbs);
                Numerics.AssertClose(result.PolicyLogProbGradient.Select(g => g / tau).ToArray(), new DroPObjective(tau).Compute(batch).PolicyLogProbGradient, relative: 0, absolute: 1e-15);
            }
    }

    [Fact]
    public void OneRowIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => new DroPObjective().Compute(new ObjectiveBatch { PolicyLogProbs = [-1], ReferenceLogProbs = [-1], Rewards = [1] }));
        Assert.Contains("at least 2 rows", e.Message);
    }
}
