using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>algorithms.md §8 facts 1–3, 5–7 and 10 on a tabular softmax policy, driven by DroVObjective's gradients.</summary>
public class DroVObjectiveTests
{
    private static readonly double[] PaperPiStar = [0.377268108475372, 0.063134920097254, 0.512760521862860, 0.046836449564513];
    private const double PaperVStar = 1.058508449351948;
    private static readonly double[] PaperPiV = [0.274507216361388, 0.104703588977924, 0.533781446716733, 0.087007747943955];

    /// <summary>Three contexts whose partition functions differ widely (all-high, all-low and mixed rewards), μ ≠ π_ref.</summary>
    internal static TabularBandit ThreeContexts() => new()
    {
        Reference = [[0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.6, 0.2, 0.1]],
        Behaviour = [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.3, 0.1, 0.3, 0.3]],
        Rewards = [[2.0, 2.5, 3.0, 2.2], [-3.0, -2.0, -2.5, -1.0], [1.0, -1.0, 0.5, 0.0]],
        ContextWeights = [0.5, 0.3, 0.2],
    };

    [Fact]
    public void ClosedFormFixtureMatchesThePaperNumbers()
    {
        var bandit = TabularBandit.PaperFixture();
        Assert.Equal(PaperVStar, bandit.OptimalValues(1.0)[0], 1e-14);
        for (int a = 0; a < 4; a++) Assert.Equal(PaperPiStar[a], bandit.OptimalPolicy(1.0)[0][a], 1e-14);

        // L(π*, V*) = 0 with zero gradients, under any μ.
        double[][] thetaStar = [bandit.OptimalPolicy(1.0)[0].Select(p => Math.Log(p)).ToArray()];
        var result = new DroVObjective().Compute(bandit.ExactBatch(thetaStar, [PaperVStar]));
        Assert.True(result.Loss < 1e-28, $"loss {result.Loss}");
        Assert.All(result.PolicyLogProbGradient, g => Assert.True(Math.Abs(g) < 1e-14));
        Assert.All(result.ValueGradient!, g => Assert.True(Math.Abs(g) < 1e-14));
    }

    [Fact]
    public void ExactGradientDescentConvergesToPiStarAndVStarForMuNotReference()
    {
        var bandit = TabularBandit.PaperFixture();
        var (theta, v) = BanditTraining.ExactGradientDescent(bandit, new DroVObjective(), steps: 1000, learningRate: 1.0);
        double[] pi = TabularBandit.Softmax(theta[0]);
        for (int a = 0; a < 4; a++) Assert.Equal(PaperPiStar[a], pi[a], 1e-12);
        Assert.Equal(PaperVStar, v[0], 1e-12);
    }

    [Fact]
    public void ExactGradientDescentRecoversPiStarPerContextWhenPartitionFunctionsDiffer()
    {
        var bandit = ThreeContexts();
        foreach (double tau in new[] { 0.5, 1.0, 3.0 })
        {
            var (theta, v) = BanditTraining.ExactGradientDescent(bandit, new DroVObjective(tau), steps: 20000, learningRate: 2.0);
            Assert.True(TabularBandit.MaxAbsDiff(bandit.Policy(theta), bandit.OptimalPolicy(tau)) < 1e-9, $"τ={tau}");
            double[] vStar = bandit.OptimalValues(tau);
            for (int x = 0; x < 3; x++) Assert.Equal(vStar[x], v[x], 1e-8);
        }
    }

    [Fact]
    public void SampledMiniBatchesConvergeWithDeterministicRewards()
    {
        // Every per-example residual vanishes at (π*, V*), so seeded SGD on mini-batches from ρ·μ reaches it.
        var bandit = ThreeContexts();
        var (pi, v) = BanditTraining.TrainOnSamples(bandit, new DroVObjective(), new DeterministicRandom(12345), steps: 3000, learningRate: step => 2.0 / (1.0 + step / 500.0));
        double err = TabularBandit.MaxAbsDiff(pi, bandit.OptimalPolicy(1.0));
        Assert.True(err < 1e-9, $"max |π − π*| = {err}");
        double[] vStar = bandit.OptimalValues(1.0);
        for (int x = 0; x < 3; x++) Assert.Equal(vStar[x], v[x], 1e-8);
    }

    [Fact]
    public void SampledMiniBatchesWithBernoulliRewardsConvergeToTheMeanRewardOptimum()
    {
        // Fact 8: r ~ Bernoulli(p(x, y)) gives π* ∝ π_ref e^{p/τ}; SGD with a decaying step gets close.
        var bandit = new TabularBandit
        {
            Reference = [[0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.6, 0.2, 0.1]],
            Behaviour = [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.3, 0.1, 0.3, 0.3]],
            Rewards = [[0.9, 0.6, 0.95, 0.7], [0.1, 0.3, 0.05, 0.4], [0.8, 0.1, 0.5, 0.3]],   // p(x, y)
            ContextWeights = [0.5, 0.3, 0.2],
        };
        const double tau = 0.25;
        var (pi, v) = BanditTraining.TrainOnSamples(bandit, new DroVObjective(tau), new DeterministicRandom(3), steps: 5000, learningRate: step => 1.0 / (1.0 + step / 200.0), bernoulliRewards: true);
        double err = TabularBandit.MaxAbsDiff(pi, bandit.OptimalPolicy(tau));
        Assert.True(err < 0.03, $"max |π − π*| = {err}");
        double[] vStar = bandit.OptimalValues(tau);
        for (int x = 0; x < 3; x++) Assert.True(Math.Abs(v[x] - vStar[x]) < 0.05, $"V({x}) = {v[x]}, V* = {vStar[x]}");
    }

    [Fact]
    public void ValueForAFixedPolicyIsTheBehaviourExpectationOfTheRegularisedReward()
    {
        // Fact 2: argmin_V L(π, V) = V^π(x) = E_{y~μ}[r − τ log(π/π_ref)]; for a constant V, E_ρ[V^π(x)].
        var bandit = ThreeContexts();
        const double tau = 0.7;
        double[][] theta = [[0.3, -1.2, 0.8, 0.1], [1.5, 0.0, -0.4, 0.2], [-0.7, 0.9, 0.05, -0.3]];
        double[][] pi = bandit.Policy(theta);
        var vPi = new double[3];
        for (int x = 0; x < 3; x++)
            for (int a = 0; a < 4; a++)
                vPi[x] += bandit.Behaviour[x][a] * (bandit.Rewards[x][a] - tau * Math.Log(pi[x][a] / bandit.Reference[x][a]));

        var (_, v) = BanditTraining.ExactGradientDescent(bandit, new DroVObjective(tau), steps: 2000, learningRate: 3.0, initialTheta: theta, trainPolicy: false);
        for (int x = 0; x < 3; x++) Assert.Equal(vPi[x], v[x], 1e-12);

        var single = new DroVObjective(tau, DroValueMode.Single);
        var (_, vc) = BanditTraining.ExactGradientDescent(bandit, single, steps: 200, learningRate: 1.0, initialTheta: theta, trainPolicy: false, singleValue: true);
        double expected = Enumerable.Range(0, 3).Sum(x => bandit.ContextWeights[x] * vPi[x]);
        Assert.All(vc, c => Assert.Equal(expected, c, 1e-12));
    }

    [Fact]
    public void SingleValueDoesNotRecoverPiStarWhenTheOptimalValueDependsOnTheContext()
    {
        var bandit = ThreeContexts();
        var (theta, v) = BanditTraining.ExactGradientDescent(bandit, new DroVObjective(1.0, DroValueMode.Single), steps: 20000, learningRate: 1.0, singleValue: true);
        Assert.Equal(v[0], v[2]);
        double err = TabularBandit.MaxAbsDiff(bandit.Policy(theta), bandit.OptimalPolicy(1.0));
        Assert.True(err > 0.05, $"single value unexpectedly reached π* (max |π − π*| = {err})");
    }

    [Fact]
    public void SingleValueModeRejectsDifferentValues()
    {
        var batch = new ObjectiveBatch { PolicyLogProbs = [-1, -2], ReferenceLogProbs = [-1, -2], Values = [0.5, 0.6], Rewards = [1, 0] };
        var e = Assert.Throws<ArgumentException>(() => new DroVObjective(1.0, DroValueMode.Single).Compute(batch));
        Assert.Contains("Values[1]", e.Message);
        Assert.Equal(-0.5 * 1.5 + -0.5 * -0.5, new DroVObjective(1.0, DroValueMode.Single)
            .Compute(new ObjectiveBatch { PolicyLogProbs = [-1, -2], ReferenceLogProbs = [-1, -2], Values = [0.5, 0.5], Rewards = [2, 0] }).ValueGradientSum, 1e-15);
    }

    [Fact]
    public void PropositionOneFixedPointWithFrozenValue()
    {
        // Fact 3: V frozen at V* − 0.7; π_V = argmin_π L(π, V).
        var bandit = TabularBandit.PaperFixture();
        double vFrozen = PaperVStar - 0.7;
        var (theta, _) = BanditTraining.ExactGradientDescent(bandit, new DroVObjective(), steps: 3000, learningRate: 1.0, frozenValues: [vFrozen]);
        double[] piV = TabularBandit.Softmax(theta[0]);
        for (int a = 0; a < 4; a++) Assert.Equal(PaperPiV[a], piV[a], 1e-12);

        AssertPropositionOne(bandit, piV, vFrozen, tau: 1.0, out double lhs, out double rhs);
        Assert.Equal(0.61934, lhs, 5e-6);
        Assert.Equal(1.29428, rhs, 5e-6);
    }

    [Fact]
    public void OffPolicyBiasWithoutValue()
    {
        // Fact 7: V ≡ 0 (dropped) moves the fixed point away from π*; it is Proposition 1's π_V with V = 0.
        var bandit = TabularBandit.PaperFixture();
        var (theta, _) = BanditTraining.ExactGradientDescent(bandit, new DroVObjective(), steps: 3000, learningRate: 1.0, frozenValues: [0.0]);
        double[] pi0 = TabularBandit.Softmax(theta[0]);
        double maxLogError = pi0.Zip(PaperPiStar).Max(p => Math.Abs(Math.Log(p.First / p.Second)));
        Assert.True(maxLogError > 0.5, $"max |log π₀/π*| = {maxLogError}");
        AssertPropositionOne(bandit, pi0, 0.0, tau: 1.0, out _, out _);
    }

    /// <summary>
    /// π_V ∝ π_ref·exp((1/τ)[r − (π_V/μ)(V^{π_V} − V)]) to 1e-12, and
    /// max|log π_V/π*| ≤ (2/τ) max|(V^{π_V} − V)(1 − π_V/μ)|.
    /// </summary>
    private static void AssertPropositionOne(TabularBandit bandit, double[] piV, double v, double tau, out double lhs, out double rhs)
    {
        double[] piRef = bandit.Reference[0], mu = bandit.Behaviour[0], r = bandit.Rewards[0];
        double vPiV = Enumerable.Range(0, 4).Sum(a => mu[a] * (r[a] - tau * Math.Log(piV[a] / piRef[a])));
        double[] unnorm = Enumerable.Range(0, 4).Select(a => piRef[a] * Math.Exp((r[a] - piV[a] / mu[a] * (vPiV - v)) / tau)).ToArray();
        double z = unnorm.Sum();
        for (int a = 0; a < 4; a++) Assert.Equal(unnorm[a] / z, piV[a], 1e-12);
        double[] piStar = bandit.OptimalPolicy(tau)[0];
        lhs = Enumerable.Range(0, 4).Max(a => Math.Abs(Math.Log(piV[a] / piStar[a])));
        rhs = 2 / tau * Enumerable.Range(0, 4).Max(a => Math.Abs((vPiV - v) * (1 - piV[a] / mu[a])));
        Assert.True(lhs <= rhs, $"{lhs} > {rhs}");
    }

    [Fact]
    public void MinimiserIsNotUniqueWithoutSupport()
    {
        // Fact 5: μ(y₀) = 0 for y₀ = action 3. Moving π(y₀) and shifting V keeps the loss at 0.
        var bandit = new TabularBandit
        {
            Reference = [[0.4, 0.3, 0.2, 0.1]], Behaviour = [[0.2, 0.3, 0.5, 0.0]],
            Rewards = [[1.0, -0.5, 2.0, 0.3]], ContextWeights = [1.0],
        };
        double[] piStar = bandit.OptimalPolicy(1.0)[0];
        double vStar = bandit.OptimalValues(1.0)[0];
        const double moved = 0.3;
        double scale = (1 - moved) / (1 - piStar[3]);
        double[] piOther = [piStar[0] * scale, piStar[1] * scale, piStar[2] * scale, moved];
        double vOther = vStar - Math.Log(scale);   // τ = 1

        var objective = new DroVObjective();
        foreach (var (pi, v) in new[] { (piStar, vStar), (piOther, vOther) })
        {
            var result = objective.Compute(bandit.ExactBatch([pi.Select(p => Math.Log(p)).ToArray()], [v]));
            Assert.True(result.Loss < 1e-28, $"loss {result.Loss}");
            Assert.All(result.PolicyLogProbGradient, g => Assert.True(Math.Abs(g) < 1e-14));
            Assert.All(result.ValueGradient!, g => Assert.True(Math.Abs(g) < 1e-14));
        }
        Assert.True(Math.Abs(piOther[3] - piStar[3]) > 0.2);

        // With full support the second pair is no longer a minimiser.
        var full = TabularBandit.PaperFixture();
        Assert.True(objective.Compute(full.ExactBatch([piOther.Select(p => Math.Log(p)).ToArray()], [vOther])).Loss > 1e-3);
    }

    [Fact]
    public void BatchFixtureLossAndGradients()
    {
        // Fact 6: τ = 1, r = [1, −1], V = [0.2, −0.1], ℓ = [0.5, −0.3].
        var batch = new ObjectiveBatch { PolicyLogProbs = [-1.5, -2.3], ReferenceLogProbs = [-2.0, -2.0], Values = [0.2, -0.1], Rewards = [1, -1] };
        var r1 = new DroVObjective(1.0).Compute(batch);
        Assert.Equal(0.1125, r1.Loss, 1e-15);
        Numerics.AssertClose([-0.15, 0.30], r1.ValueGradient!, relative: 0, absolute: 1e-15);
        Numerics.AssertClose([-0.15, 0.30], r1.PolicyLogProbGradient, relative: 0, absolute: 1e-15);

        var r2 = new DroVObjective(2.0).Compute(batch);
        Assert.Equal(0.0325, r2.Loss, 1e-15);
        Numerics.AssertClose([0.1, 0.15], r2.PolicyLogProbGradient, relative: 0, absolute: 1e-15);
        Numerics.AssertClose([0.1, 0.15], r2.ValueGradient!, relative: 0, absolute: 1e-15);   // Eq. 7: V − r + τℓ = [0.2, 0.3], /B
        var raw = new DroVObjective(2.0, rescalePolicyGradient: false).Compute(batch);
        Numerics.AssertClose([0.2, 0.3], raw.PolicyLogProbGradient, relative: 0, absolute: 1e-15);
        Numerics.AssertClose([0.1, 0.15], raw.ValueGradient!, relative: 0, absolute: 1e-15);   // the value gradient is never rescaled

        Assert.Equal(0.05, r1.Metrics["value/mean"], 1e-15);
        Assert.Equal(0.1, r1.Metrics["logratio/mean"], 1e-15);
        Assert.Equal((0.3 + -0.6) / 2, r1.Metrics["residual/mean"], 1e-15);
        Assert.Equal(0.1125, r1.Metrics["loss"], 1e-15);
        Assert.Equal(0.2, r2.Metrics["rewards/mean"], 1e-15);
    }

    [Fact]
    public void AtInitialisationThePolicyGradientIsTheAdvantage()
    {
        // ℓ = 0: ∂L/∂logπᵢ = −(1/B)(rᵢ − Vᵢ) for any τ after rescaling.
        var batch = new ObjectiveBatch { PolicyLogProbs = [-3, -1, -2], ReferenceLogProbs = [-3, -1, -2], Values = [0.5, 0.1, -0.2], Rewards = [1, -1, 0.3] };
        foreach (double tau in new[] { 0.1, 1.0, 5.0 })
            Numerics.AssertClose([-0.5 / 3, 1.1 / 3, -0.5 / 3], new DroVObjective(tau).Compute(batch).PolicyLogProbGradient, relative: 0, absolute: 1e-15);
    }

    [Fact]
    public void RescalingDoesNotMoveTheStationaryPoint()
    {
        // Fact 10, τ = 2: rescaled and raw policy gradients reach the same (π*, V*).
        var bandit = TabularBandit.PaperFixture();
        foreach (bool rescale in new[] { true, false })
        {
            var (theta, v) = BanditTraining.ExactGradientDescent(bandit, new DroVObjective(2.0, rescalePolicyGradient: rescale), steps: 3000, learningRate: 0.5);
            Assert.True(TabularBandit.MaxAbsDiff(bandit.Policy(theta), bandit.OptimalPolicy(2.0)) < 1e-10, $"rescale={rescale}");
            Assert.Equal(bandit.OptimalValues(2.0)[0], v[0], 1e-10);
        }
    }

    [Fact]
    public void GradientsMatchCentralFiniteDifferences()
    {
        var random = new DeterministicRandom(7);
        foreach (int b in new[] { 1, 7, 33 })
        {
            var batch = RandomBatch(random, b);
            foreach (double tau in new[] { 0.3, 1.0, 2.5 })
            {
                var raw = new DroVObjective(tau, rescalePolicyGradient: false);
                var result = raw.Compute(batch);
                FiniteDifference.Check(raw, batch, result.PolicyLogProbGradient, FiniteDifference.Input.PolicyLogProbs);
                FiniteDifference.Check(raw, batch, result.ValueGradient!, FiniteDifference.Input.Values);
                var rescaled = new DroVObjective(tau).Compute(batch);
                Numerics.AssertClose(result.PolicyLogProbGradient.Select(g => g / tau).ToArray(), rescaled.PolicyLogProbGradient, relative: 0, absolute: 1e-15);
            }
            // Weighted batches too.
            var weighted = new ObjectiveBatch
            {
                PolicyLogProbs = batch.PolicyLogProbs, ReferenceLogProbs = batch.ReferenceLogProbs, Values = batch.Values, Rewards = batch.Rewards,
                Weights = Enumerable.Range(0, b).Select(_ => 0.1 + random.NextDouble()).ToArray(),
            };
            var w = new DroVObjective(0.8, rescalePolicyGradient: false);
            var wr = w.Compute(weighted);
            FiniteDifference.Check(w, weighted, wr.PolicyLogProbGradient, FiniteDifference.Input.PolicyLogProbs);
            FiniteDifference.Check(w, weighted, wr.ValueGradient!, FiniteDifference.Input.Values);
        }
    }

    internal static ObjectiveBatch RandomBatch(DeterministicRandom random, int b)
    {
        double[] Draw(double lo, double hi) => Enumerable.Range(0, b).Select(_ => lo + (hi - lo) * random.NextDouble()).ToArray();
        return new ObjectiveBatch
        {
            PolicyLogProbs = Draw(-12, -0.5), ReferenceLogProbs = Draw(-12, -0.5), Values = Draw(-2, 2), Rewards = Draw(-2, 2),
        };
    }
}
