using DroSharp.Alignment.Training;

namespace DroSharp.Alignment.Tests.Training;

public sealed class RunPlanTests
{
    private static readonly TrainingOptions O = new() { Algo = "dro-v", Model = "m", Data = "d", Out = "o" };

    [Fact]
    public void WarmupIsTheRatioOfTheRunRoundedUpUnlessStepsAreGiven()
    {
        Assert.Equal(0.1, O.WarmupRatio);
        Assert.Null(O.WarmupSteps);
        Assert.Equal(2, RunPlan.Resolve(O, 17, false).WarmupSteps);     // ⌈1.7⌉, HF's get_warmup_steps
        Assert.Equal(30, RunPlan.Resolve(O, 300, false).WarmupSteps);
        Assert.Equal(0, RunPlan.Resolve(O with { WarmupRatio = 0 }, 300, false).WarmupSteps);
        Assert.Equal(150, RunPlan.Resolve(O with { WarmupSteps = 150 }, 17, false).WarmupSteps);
        Assert.Equal(0, RunPlan.Resolve(O with { WarmupSteps = 0, WarmupRatio = 0.5 }, 300, false).WarmupSteps);
    }

    [Fact]
    public void EvaluationEveryTenthOfTheRunWithAHeldOutSplit()
    {
        Assert.Equal(30, RunPlan.Resolve(O, 300, true).EvalEvery);
        Assert.Equal(2, RunPlan.Resolve(O, 17, true).EvalEvery);
        Assert.Equal(1, RunPlan.Resolve(O, 3, true).EvalEvery);
        Assert.Equal(0, RunPlan.Resolve(O, 300, false).EvalEvery);
        Assert.Equal(7, RunPlan.Resolve(O with { EvalEvery = 7 }, 300, true).EvalEvery);
        Assert.Equal(0, RunPlan.Resolve(O with { EvalEvery = 0 }, 300, true).EvalEvery);
        var plan = RunPlan.Resolve(O, 300, true);
        Assert.True(plan.IsEvaluationStep(30));
        Assert.False(plan.IsEvaluationStep(31));
        Assert.False(plan.IsEvaluationStep(300)); // the end is evaluated after the loop
    }

    [Fact]
    public void BadValuesAreOneLineErrors()
    {
        Assert.Contains("--warmup-ratio", Assert.Throws<TrainingException>(() => (O with { WarmupRatio = 1.5 }).Validate()).Message);
        Assert.Contains("--select-by", Assert.Throws<TrainingException>(() => (O with { SelectBy = "loss" }).Validate()).Message);
        Assert.Contains("--early-stop-patience", Assert.Throws<TrainingException>(() => (O with { EarlyStopPatience = 0 }).Validate()).Message);
        Assert.Contains("--eval-samples", Assert.Throws<TrainingException>(() => (O with { EvalSamples = -1 }).Validate()).Message);
        Assert.Contains("--profile", Assert.Throws<TrainingException>(() => (O with { Profile = "fast" }).Validate()).Message);
    }

    [Fact]
    public void ThePaperProfileFillsOnlyWhatWasNotGiven()
    {
        var json = new System.Text.Json.Nodes.JsonObject { ["lr"] = 3e-5 };
        TrainingProfiles.Apply(json, "paper");
        var o = TrainingOptions.FromJson(json.ToJsonString(), "test") with { Algo = "dro-v", Model = "m", Data = "d", Out = "o" };
        Assert.Equal(("paper", 3e-5, "adafactor", 150, 32, 1.0), (o.Profile, o.LearningRate, o.Optimizer, o.WarmupSteps!.Value, o.BatchSize, o.Tau));
    }
}
