using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;
using Xunit.Abstractions;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>
/// The paper's claim that KTO's batch-level reference point is biased when the partition function Z(x)
/// differs across prompts, checked on a bandit with the paper's KTO baseline (labels: reward above the
/// micro-batch mean; λ_D = λ_U = 1) against DRO-V, both trained by seeded SGD on the same kind of data.
/// The yardstick is the reward–KL frontier: the best expected reward at a given E_ρ KL(π‖π_ref) is reached
/// by π*_τ' for the τ' with that KL, which is where DRO-V converges.
/// </summary>
public class DroVersusKtoTests(ITestOutputHelper output)
{
    private static readonly Func<int, double> Schedule = step => 1.0 / (1.0 + step / 1000.0);

    [Fact]
    public void DroVGetsMoreRewardThanKtoAtEqualKl()
    {
        var bandit = DroVObjectiveTests.ThreeContexts();
        foreach (double beta in new[] { 1.0, 5.0 })   // the paper tuned KTO's β over {0.1, 1, 5}
        {
            var (kto, _) = BanditTraining.TrainOnSamples(bandit, new KtoObjective(beta, labelMode: KtoLabelMode.BatchMeanReward),
                                                         new DeterministicRandom(1), steps: 2500, learningRate: Schedule);
            double kl = bandit.KlToReference(kto);

            // DRO-V at the τ' whose optimum has KTO's KL, trained on samples (no closed form used in training).
            double tauMatched = TauWithKl(bandit, kl);
            var (dro, _) = BanditTraining.TrainOnSamples(bandit, new DroVObjective(tauMatched), new DeterministicRandom(1), steps: 2500,
                                                         learningRate: step => 2.0 / (1.0 + step / 500.0));
            Assert.Equal(kl, bandit.KlToReference(dro), 1e-6);
            double gain = bandit.ExpectedReward(dro) - bandit.ExpectedReward(kto);
            output.WriteLine($"β={beta}: KL {kl:F4}, τ'={tauMatched:F4}; reward DRO-V {bandit.ExpectedReward(dro):F4}, KTO {bandit.ExpectedReward(kto):F4}; "
                             + $"max |π − π*_β|: KTO {TabularBandit.MaxAbsDiff(kto, bandit.OptimalPolicy(beta)):F3}");
            Assert.True(gain > 0.08, $"β={beta}: DRO-V reward {bandit.ExpectedReward(dro):F4} vs KTO {bandit.ExpectedReward(kto):F4} at KL {kl:F4}");

            // With τ = β, DRO-V reaches π*_β; KTO stays far from it.
            var (droSame, _) = BanditTraining.TrainOnSamples(bandit, new DroVObjective(beta), new DeterministicRandom(2), steps: 2500,
                                                             learningRate: step => 2.0 / (1.0 + step / 500.0));
            double[][] piStar = bandit.OptimalPolicy(beta);
            Assert.True(TabularBandit.MaxAbsDiff(droSame, piStar) < 1e-6);
            Assert.True(TabularBandit.MaxAbsDiff(kto, piStar) > 0.2);
        }
    }

    [Fact]
    public void KtoFallsFurtherBelowTheFrontierWhenPartitionFunctionsDiffer()
    {
        // Shifting each context's rewards by −V*(x) leaves π* unchanged and makes Z(x) = 1 everywhere.
        var differs = DroVObjectiveTests.ThreeContexts();
        double[] vStar = differs.OptimalValues(1.0);
        var equal = new TabularBandit
        {
            Reference = differs.Reference, Behaviour = differs.Behaviour, ContextWeights = differs.ContextWeights,
            Rewards = differs.Rewards.Select((row, x) => row.Select(r => r - vStar[x]).ToArray()).ToArray(),
        };
        double Gap(TabularBandit bandit)
        {
            var (kto, _) = BanditTraining.TrainOnSamples(bandit, new KtoObjective(1.0, labelMode: KtoLabelMode.BatchMeanReward),
                                                         new DeterministicRandom(1), steps: 2500, learningRate: Schedule);
            double kl = bandit.KlToReference(kto);
            return bandit.ExpectedReward(bandit.OptimalPolicy(TauWithKl(bandit, kl))) - bandit.ExpectedReward(kto);
        }
        double gapDiffers = Gap(differs), gapEqual = Gap(equal);
        output.WriteLine($"KTO reward gap to the frontier at its KL: differing Z {gapDiffers:F4}, equal Z {gapEqual:F4}");
        Assert.True(gapEqual > 0.02, $"KTO on the frontier even with equal Z? gap {gapEqual:F4}");
        Assert.True(gapDiffers > 1.5 * gapEqual, $"gap with differing Z {gapDiffers:F4}, with equal Z {gapEqual:F4}");
    }

    /// <summary>The τ' > 0 with E_ρ KL(π*_τ' ‖ π_ref) = kl (the KL decreases monotonically in τ'), by bisection in log τ'.</summary>
    private static double TauWithKl(TabularBandit bandit, double kl)
    {
        double lo = 1e-3, hi = 1e3;
        for (int it = 0; it < 200; it++)
        {
            double mid = Math.Sqrt(lo * hi);
            if (bandit.KlToReference(bandit.OptimalPolicy(mid)) > kl) lo = mid; else hi = mid;
        }
        return Math.Sqrt(lo * hi);
    }
}
