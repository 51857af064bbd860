using DroSharp.Alignment.Training;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>Each warning's trigger on synthetic metrics streams, and the quiet of a healthy stream.</summary>
public sealed class RunWarningsTests
{
    private static readonly WarningContext Dro = new()
    {
        Algo = "dro-v", TotalSteps = 300, LogEvery = 10, Regularisation = 1.0, RewardRange = 2.0,
    };

    /// <summary>A training line every 10 steps: step → values.</summary>
    private static MetricsRecord Train(long step, double loss = 0.5, double logratio = -0.1, double grad = 1.0) =>
        new(step, new Dictionary<string, double> { ["loss"] = loss, ["logratio/mean"] = logratio, ["grad_norm"] = grad, ["learning_rate"] = 1e-5 });

    private static MetricsRecord Eval(long step, double kl = 0.3, double eos = 1.0, double length = 10, double refEos = 1.0, double refLength = 10) =>
        new(step, new Dictionary<string, double>
        {
            ["eval_loss"] = 0.5, [HeldOutMetricNames.Kl] = kl, [HeldOutMetricNames.EosRate] = eos, [HeldOutMetricNames.MeanLength] = length,
            [HeldOutMetricNames.ReferenceEosRate] = refEos, [HeldOutMetricNames.ReferenceMeanLength] = refLength,
        });

    /// <summary>A healthy run: loss and log-ratio near their start, KL small, EOS and length as π_ref's.</summary>
    private static IEnumerable<MetricsRecord> Healthy()
    {
        yield return Eval(0, kl: 0);
        for (int s = 10; s <= 300; s += 10)
        {
            yield return Train(s, loss: 0.6 - 0.1 * s / 300, logratio: -0.3 * s / 300, grad: 1.0 + 0.2 * Math.Sin(s));
            if (s % 30 == 0) yield return Eval(s, kl: 0.4 * s / 300, eos: s % 90 == 0 ? 0.97 : 1.0, length: 10 + 2 * s / 300.0);
        }
    }

    [Fact]
    public void AHealthyRunStaysQuiet()
    {
        Assert.Empty(RunWarnings.Scan(Dro, Healthy()));
        Assert.Empty(RunWarnings.Scan(Dro with { Algo = "kto", Regularisation = 0.1, RegularisationName = "β" }, Healthy()));
    }

    [Fact]
    public void LogRatioDriftFiresWhenTheRunningMeanCrossesTheFloor()
    {
        // 300 steps at log-every 10: the running mean covers 3 lines. −0.5 per line from step 10: the
        // mean of lines 40, 50, 60 (−2, −2.5, −3 → −2.5) is the first below −1.5? Lines 20, 30, 40: −1, −1.5, −2 → −1.5, not below.
        var stream = Enumerable.Range(1, 30).Select(i => Train(10 * i, logratio: -0.5 * i)).ToList();
        var w = Assert.Single(RunWarnings.Scan(Dro, stream));
        Assert.Equal(RunWarning.LogRatioDrift, w.Code);
        Assert.Equal(50, w.Step); // lines 30, 40, 50: −1.5, −2, −2.5 → −2 < −1.5
        Assert.Equal(-2.0, w.Value, 12);
        Assert.Equal(-1.5, w.Threshold);
        Assert.Contains("-2", w.Message);
        Assert.Contains("-1.5", w.Message);

        // Just above the floor: quiet.
        Assert.Empty(RunWarnings.Scan(Dro, Enumerable.Range(1, 30).Select(i => Train(10 * i, logratio: -1.45))));
    }

    [Fact]
    public void LogRatioDriftReadsPerTokenLogRatiosAsPerSequence()
    {
        // Length-normalised runs log per-token log-ratios; 12 tokens per completion turn −0.2 into −2.4 nats per sequence.
        var stream = Enumerable.Range(1, 30).Select(i => Train(10 * i, logratio: -0.2)).ToList();
        Assert.Empty(RunWarnings.Scan(Dro, stream));
        var w = Assert.Single(RunWarnings.Scan(Dro with { LogRatioScale = 12 }, stream));
        Assert.Equal(RunWarning.LogRatioDrift, w.Code);
        Assert.Equal(-2.4, w.Value, 12);
    }

    [Fact]
    public void TheDriftFloorOfTheTauObjectivesFollowsTheirRegularisedOptimum()
    {
        // Thumbs z-scored with 37 % up: max r − mean r = 1.3. At τ = 0.3 the optimum's own mean log-ratio on
        // π_ref's samples can reach −1.3/0.3 ≈ −4.33, so that is the floor; at τ = 1 the issue's −1.5 stays.
        var tau03 = Dro with { Regularisation = 0.3, RewardHeadroom = 1.3, KlRegularisedOptimum = true };
        Assert.Equal(-1.3 / 0.3, tau03.EffectiveLogRatioFloor(new WarningThresholds()), 12);
        Assert.Equal(-1.5, (tau03 with { Regularisation = 1.0 }).EffectiveLogRatioFloor(new WarningThresholds()));
        Assert.Equal(-1.5, (tau03 with { KlRegularisedOptimum = false }).EffectiveLogRatioFloor(new WarningThresholds())); // KTO, DPO
        Assert.Empty(RunWarnings.Scan(tau03, Enumerable.Range(1, 30).Select(i => Train(10 * i, logratio: -3.0))));
        var w = Assert.Single(RunWarnings.Scan(tau03, Enumerable.Range(1, 30).Select(i => Train(10 * i, logratio: -5.0))));
        Assert.Equal(-1.3 / 0.3, w.Threshold, 12);
    }

    [Fact]
    public void HealthProblemsAreJudgedAtEveryEvaluationNotOnce()
    {
        var w = new RunWarnings(Dro with { Regularisation = 0.3 });
        Assert.Empty(w.HealthProblems(Eval(0, kl: 50, eos: 0.1)));     // π_ref
        Assert.Empty(w.HealthProblems(Eval(30)));
        Assert.Empty(w.HealthProblems(Train(30)));
        for (int s = 60; s <= 90; s += 30)
            Assert.Equal([RunWarning.KlHigh, RunWarning.EosRateLow], w.HealthProblems(Eval(s, kl: 9, eos: 0.5)).Select(p => p.Code));
    }

    [Fact]
    public void LossStayingFarAboveItsStartFires()
    {
        // Starts at 0.6 (the DRO loss of a fresh value head), climbs to 5 around the LR peak.
        double[] losses = [0.6, 0.8, 1.1, 1.6, 3.0, 5.0, 6.0, 5.5, 5.0, 4.0];
        var stream = losses.Select((l, i) => Train(10 * (i + 1), loss: l)).ToList();
        var w = Assert.Single(RunWarnings.Scan(Dro, stream));
        Assert.Equal(RunWarning.LossHigh, w.Code);
        Assert.Equal(50, w.Step); // mean of 1.1, 1.6, 3.0 = 1.9 > 3 × 0.6 (0.8, 1.1, 1.6 → 1.17 is not)
        Assert.Equal(1.8, w.Threshold, 12);

        // A transient spike averaged with normal lines stays under three times the start.
        double[] spike = [0.6, 0.6, 0.6, 3.0, 0.6, 0.6, 0.6];
        Assert.Empty(RunWarnings.Scan(Dro, spike.Select((l, i) => Train(10 * (i + 1), loss: l))));
    }

    [Fact]
    public void KtoGradientStuckAtZeroFires()
    {
        var kto = Dro with { Algo = "kto", Regularisation = 0.1, RegularisationName = "β" };
        double[] grads = [0.5, 0.3, 0.05, 0.004, 0.001, 0.0005, 0.0004];
        var w = Assert.Single(RunWarnings.Scan(kto, grads.Select((g, i) => Train(10 * (i + 1), grad: g))));
        Assert.Equal(RunWarning.GradientVanished, w.Code);
        Assert.Equal(60, w.Step); // 0.004, 0.001, 0.0005 → 0.0018 < 0.005
        Assert.Contains("KTO", w.Message);
        // SFT (no reference) has no such check: its gradient legitimately shrinks.
        Assert.Empty(RunWarnings.Scan(kto with { Algo = "sft", Regularisation = null }, grads.Select((g, i) => Train(10 * (i + 1), grad: g))));
    }

    [Fact]
    public void KlAboveTheBoundFires()
    {
        // Without an optimum estimate the bound is (max r − min r)/τ = 2/0.3 ≈ 6.67 nats.
        var ctx = Dro with { Regularisation = 0.3 };
        var w = Assert.Single(RunWarnings.Scan(ctx, [Eval(0, kl: 0), Eval(30, kl: 2), Eval(60, kl: 6.5), Eval(90, kl: 86)]));
        Assert.Equal(RunWarning.KlHigh, w.Code);
        Assert.Equal(90, w.Step);
        Assert.Equal(2 / 0.3, w.Threshold, 12);
        Assert.Contains("86", w.Message);
        // --kl-bound replaces it.
        var w2 = Assert.Single(RunWarnings.Scan(ctx with { KlBound = 1.5 }, [Eval(30, kl: 2)]));
        Assert.Equal(1.5, w2.Threshold);
        // No regulariser and no explicit bound (SFT): no KL check.
        Assert.Empty(RunWarnings.Scan(ctx with { Regularisation = null }, [Eval(30, kl: 86)]));
    }

    [Fact]
    public void TheDefaultKlBoundIsTwiceTheOptimumsKlEstimatedOnTheRewards()
    {
        // Thumbs with 41 % up, z-scored: the tilt e^{r/τ} at τ = 0.3 moves almost all mass to the ups, so the
        // optimum's KL is close to −log 0.41 ≈ 0.89 nats (the binary formula: p* log(p*/p) + (1−p*) log((1−p*)/(1−p))).
        double p = 0.41, sd = Math.Sqrt(p * (1 - p));
        var rewards = Enumerable.Range(0, 100).Select(i => ((i < 41 ? 1.0 : 0.0) - p) / sd).ToList();
        double a = Math.Exp((1 / sd) / 0.3);
        double pStar = p * a / (p * a + 1 - p);
        double exact = pStar * Math.Log(pStar / p) + (1 - pStar) * Math.Log((1 - pStar) / (1 - p));
        double k = WarningContext.OptimumKlEstimate(rewards, 0.3);
        Assert.Equal(exact, k, 10);
        Assert.InRange(k, 0.85, 0.9);
        Assert.Equal(0.0, WarningContext.OptimumKlEstimate([1.0, 1.0, 1.0], 0.3), 12);   // nothing to tilt

        var ctx = Dro with { Regularisation = 0.3, RewardRange = rewards.Max() - rewards.Min(), OptimumKl = k };
        var t = new WarningThresholds();
        Assert.Equal(2 * k, ctx.EffectiveKlBound(t)!.Value, 12);
        var w = Assert.Single(RunWarnings.Scan(ctx, [Eval(30, kl: 0.3), Eval(60, kl: 1.6), Eval(90, kl: 2.2)]));
        Assert.Equal(90, w.Step);
        Assert.Contains("estimated on the training rewards", w.Message);
        // Never below 0.5 nats, never above (max r − min r)/τ.
        Assert.Equal(0.5, (ctx with { OptimumKl = 0.01 }).EffectiveKlBound(t)!.Value, 12);
        Assert.Equal(ctx.RewardRange!.Value / 0.3, (ctx with { OptimumKl = 100 }).EffectiveKlBound(t)!.Value, 12);
    }

    [Fact]
    public void EosRateUnderNinetyFivePercentFires()
    {
        var w = Assert.Single(RunWarnings.Scan(Dro, [Eval(0), Eval(30, eos: 0.97), Eval(60, eos: 0.9375)]));
        Assert.Equal(RunWarning.EosRateLow, w.Code);
        Assert.Equal(60, w.Step);
        Assert.Equal(0.95, w.Threshold);
        // π_ref itself stops only 80 % of the time: the floor follows it down (75 %).
        Assert.Empty(RunWarnings.Scan(Dro, [Eval(30, eos: 0.78, refEos: 0.8)]));
        Assert.Equal(0.75, Assert.Single(RunWarnings.Scan(Dro, [Eval(30, eos: 0.7, refEos: 0.8)])).Threshold, 12);
    }

    [Fact]
    public void LengthChangedByMoreThanFortyPercentFires()
    {
        // 40 %: on the arena good runs moved their length by at most 31 %, the harmful ones by 44–56 %.
        Assert.Empty(RunWarnings.Scan(Dro, [Eval(30, length: 13.9), Eval(60, length: 6.1)]));
        var longer = Assert.Single(RunWarnings.Scan(Dro, [Eval(30, length: 16)]));
        Assert.Equal(RunWarning.LengthChanged, longer.Code);
        Assert.Equal(1.6, longer.Value, 12);
        Assert.Equal(1.4, longer.Threshold);
        var shorter = Assert.Single(RunWarnings.Scan(Dro, [Eval(30, length: 5.5)]));
        Assert.Equal(0.6, shorter.Threshold, 12);
    }

    [Fact]
    public void EachWarningFiresOnceAndStepZeroIsTheReference()
    {
        var ctx = Dro with { Regularisation = 0.3 };
        var stream = new List<MetricsRecord> { Eval(0, kl: 50, eos: 0.1, length: 40) }; // π_ref's own line: never judged
        for (int s = 30; s <= 300; s += 30) stream.Add(Eval(s, kl: 50, eos: 0.5, length: 40));
        var fired = RunWarnings.Scan(ctx, stream);
        Assert.Equal([RunWarning.KlHigh, RunWarning.EosRateLow, RunWarning.LengthChanged], fired.Select(w => w.Code));
        Assert.All(fired, w => Assert.Equal(30, w.Step));
    }

    [Fact]
    public void WarmupLongerThanHalfTheRunFires()
    {
        var w = RunWarnings.Warmup(150, 17);
        Assert.NotNull(w);
        Assert.Equal(RunWarning.WarmupTooLong, w.Code);
        Assert.Contains("never reaches", w.Message);
        Assert.Contains("150", w.Message);
        Assert.Contains("17", w.Message);
        Assert.NotNull(RunWarnings.Warmup(60, 100));
        Assert.Null(RunWarnings.Warmup(50, 100));
        Assert.Null(RunWarnings.Warmup(10, 100));
    }

    [Fact]
    public void ANearUniformPolicyBeingAlignedFires()
    {
        // V = 512: uniform is −6.238 nats per token; the threshold is 90 % of it.
        var w = RunWarnings.UntrainedPolicy(-6.26, 512, "dro-v");
        Assert.NotNull(w);
        Assert.Equal(RunWarning.UntrainedPolicy, w.Code);
        Assert.Equal(0.9 * -Math.Log(512), w.Threshold, 12);
        Assert.Contains("sft", w.Message);
        Assert.Null(RunWarnings.UntrainedPolicy(-2.0, 512, "dro-v"));   // a trained model
        Assert.Null(RunWarnings.UntrainedPolicy(-6.26, 512, "sft"));    // SFT is how one gets a trained model
        Assert.Null(RunWarnings.UntrainedPolicy(-6.26, 512, "sft-pos"));
    }

    [Fact]
    public void ObservingLineByLineEqualsScanningAndRunningMeanIsExposed()
    {
        var stream = Enumerable.Range(1, 30).Select(i => Train(10 * i, logratio: -0.2 * i, loss: 0.5 + 0.3 * i)).ToList();
        var w = new RunWarnings(Dro);
        var online = stream.SelectMany(w.Observe).ToList();
        Assert.Equal(RunWarnings.Scan(Dro, stream), online);
        Assert.Equal(3, w.WindowLines);
        Assert.Equal(-0.2 * (28 + 29 + 30) / 3, w.RunningLogRatio!.Value, 12);
    }

    [Fact]
    public void TheWindowIsTenPercentOfTheRunWithinItsBounds()
    {
        Assert.Equal(2, new RunWarnings(Dro with { TotalSteps = 50 }).WindowLines);      // 10 % of 50 steps = 0.5 lines → 2
        Assert.Equal(5, new RunWarnings(Dro with { TotalSteps = 40_000 }).WindowLines);  // capped
        Assert.Equal(1, new RunWarnings(Dro with { TotalSteps = 6 }).WindowLines);       // a run that logs once
    }
}
