using DroSharp.Alignment.Training;

namespace DroSharp.Alignment.Tests.Training;

public sealed class CheckpointSelectorTests
{
    private static Dictionary<string, double> E(double v, string name = "eval_rewards/accuracies") => new() { [name] = v, ["eval_loss"] = 1 - v };

    [Fact]
    public void KeepsTheStrictlyBestStepAndTheEarlierOnATie()
    {
        var s = new CheckpointSelector("eval_rewards/accuracies", patience: null);
        Assert.True(s.GreaterIsBetter);
        Assert.False(s.Observe(0, E(0.5)));    // π_ref: the baseline, never selected
        Assert.Equal(0.5, s.ReferenceValue);
        Assert.True(s.Observe(10, E(0.6)));
        Assert.True(s.Observe(20, E(0.7)));
        Assert.False(s.Observe(30, E(0.7)));   // a tie keeps step 20
        Assert.False(s.Observe(40, E(0.65)));
        Assert.Equal((20L, 0.7), (s.BestStep!.Value, s.BestValue!.Value));
        Assert.Equal(2, s.EvaluationsWithoutImprovement);
    }

    [Fact]
    public void AnUnhealthyEvaluationIsNeverSelected()
    {
        // KTO gone wrong: its accuracy creeps up again while KL explodes; only the healthy steps count.
        var s = new CheckpointSelector("eval_rewards/accuracies", patience: 2);
        Assert.True(s.Observe(10, E(0.78)));
        Assert.False(s.Observe(20, E(0.79), failedChecks: 1));
        Assert.False(s.Observe(30, E(0.80), failedChecks: 2));
        Assert.Equal(10, s.BestStep);
        Assert.Null(s.FallbackStep);
        Assert.True(s.ShouldStop);
        Assert.Contains("\"healthy\": false", s.ToJson(10, 30, true));
    }

    [Fact]
    public void WithoutAHealthyEvaluationTheOneClosestToPassingIsTheCandidate()
    {
        static Dictionary<string, double> K(double kl) => new() { ["eval_loss"] = 0.1, [HeldOutMetricNames.Kl] = kl };
        var s = new CheckpointSelector("eval_loss", patience: null);
        Assert.True(s.Observe(10, K(5), failedChecks: 2));
        Assert.True(s.Observe(20, K(9), failedChecks: 1));    // fewer failed checks beats a smaller KL
        Assert.False(s.Observe(30, K(12), failedChecks: 1));
        Assert.True(s.Observe(40, K(3), failedChecks: 1));    // same checks, smaller KL
        Assert.False(s.Observe(50, K(3), failedChecks: 1));   // a tie keeps the earlier step
        Assert.Equal((null, 40L, 40L), (s.BestStep, s.FallbackStep!.Value, s.CandidateStep!.Value));
        var cps = new[] { 10L, 20, 30, 40, 50 }.Select(n => (n, $"step-{n}")).ToList();
        Assert.Equal(["step-10", "step-20", "step-30"], s.RotationVictims(cps, 1));
        Assert.Contains("came closest", s.Describe(40, 50));
        Assert.Contains("\"no_healthy_evaluation\": true", s.ToJson(40, 50, false));
        // The first healthy evaluation takes over, whatever its value.
        Assert.True(s.Observe(60, new Dictionary<string, double> { ["eval_loss"] = 9 }));
        Assert.Equal(60, s.CandidateStep);
        Assert.False(s.Observe(70, K(0.1), failedChecks: 1));
    }

    [Theory]
    [InlineData("eval_loss", false)]
    [InlineData("eval_objective/kl", false)]
    [InlineData("eval_completions/clipped_ratio", false)]
    [InlineData("eval_rewards/accuracies", true)]
    [InlineData("eval_val/contain_eos_token", true)]
    public void LowerIsBetterForLossesAndKl(string metric, bool greater) =>
        Assert.Equal(greater, new CheckpointSelector(metric, null).GreaterIsBetter);

    [Fact]
    public void TheDefaultIsTheHeldOutLossAndNamesAreChecked()
    {
        Assert.Equal("eval_loss", new TrainingOptions().SelectBy);
        Assert.False(new CheckpointSelector(new TrainingOptions().SelectBy, null).GreaterIsBetter);
        Assert.Throws<TrainingException>(() => CheckpointSelector.ValidateMetric("loss"));
        Assert.Throws<TrainingException>(() => CheckpointSelector.ValidateMetric("auto"));
        CheckpointSelector.ValidateMetric("last");
        CheckpointSelector.ValidateMetric("eval_rewards/accuracies");
    }

    [Fact]
    public void PatienceCountsEvaluationsWithoutImprovement()
    {
        var s = new CheckpointSelector("eval_loss", patience: 2);
        s.Observe(10, E(0.5));   // loss 0.5
        Assert.False(s.ShouldStop);
        s.Observe(20, E(0.4));   // loss 0.6: worse
        Assert.False(s.ShouldStop);
        s.Observe(30, E(0.6));   // loss 0.4: better, counter reset
        s.Observe(40, E(0.6));
        Assert.False(s.ShouldStop);
        s.Observe(50, E(0.55));
        Assert.True(s.ShouldStop);
        Assert.Equal(30, s.BestStep);
    }

    [Fact]
    public void AMissingMetricTurnsSelectionOff()
    {
        var s = new CheckpointSelector("eval_rewards/margins", patience: 1);
        Assert.False(s.Observe(10, E(0.5)));
        Assert.True(s.MetricMissing);
        Assert.False(s.ShouldStop);
        Assert.Contains("last step", s.Describe(10, 10));
    }

    [Fact]
    public void RotationKeepsTheNewestAndTheBest()
    {
        var s = new CheckpointSelector("eval_rewards/accuracies", null);
        s.Observe(20, E(0.9));
        s.Observe(40, E(0.5));
        var cps = new[] { 10L, 20, 30, 40, 50 }.Select(n => (n, $"step-{n}")).ToList();
        Assert.Equal(["step-10", "step-30"], s.RotationVictims(cps, 2));
        Assert.Equal(["step-10", "step-30", "step-40"], s.RotationVictims(cps, 1)); // best 20 and newest 50 stay
        Assert.Empty(s.RotationVictims(cps, 0));                                     // 0 keeps all
        Assert.Equal(["step-10", "step-20", "step-30"], new CheckpointSelector("last", null).RotationVictims(cps, 2));
    }

    [Fact]
    public void ReplayingTheEvaluationLinesRebuildsTheState()
    {
        var lines = new List<MetricsRecord>
        {
            new(0, E(0.5)), new(10, new Dictionary<string, double> { ["loss"] = 1 }), new(10, E(0.6)), new(20, E(0.8)), new(30, E(0.7)),
        };
        var online = new CheckpointSelector("eval_rewards/accuracies", 3);
        foreach (var l in lines) if (l.IsEvaluation) online.Observe(l.Step, l.Values);
        var replayed = new CheckpointSelector("eval_rewards/accuracies", 3);
        replayed.Replay(lines);
        Assert.Equal((online.BestStep, online.BestValue, online.EvaluationsWithoutImprovement, online.ReferenceValue),
                     (replayed.BestStep, replayed.BestValue, replayed.EvaluationsWithoutImprovement, replayed.ReferenceValue));
        Assert.Equal(online.ToJson(30, 30, false), replayed.ToJson(30, 30, false));
    }
}
