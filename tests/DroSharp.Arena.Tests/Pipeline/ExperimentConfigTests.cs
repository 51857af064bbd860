using DroSharp.Arena.Pipeline;
using DroSharp.Arena.Tasks;

namespace DroSharp.Arena.Tests.Pipeline;

public sealed class ExperimentConfigTests
{
    [Fact]
    public void Defaults_AreValid()
    {
        new ExperimentConfig().Validate();
        DemoConfig.Create("out").Validate();
        Assert.Single(DemoConfig.Create("out").Seeds);
    }

    [Fact]
    public void WithAblations_AddsSweepAndValueArmsOnce()
    {
        var config = new ExperimentConfig { Algorithms = AlgorithmSpec.ParseList("dro-v,kto-paper,kto-trl") }
            .WithAblations([0.1, 1, 5], [0.1, 1, 5], valueAblation: true);
        Assert.Equal(
            ["dro-v", "kto-paper", "kto-trl", "dro-v:tau=0.1", "dro-v:tau=5", "kto-paper:beta=0.1", "kto-paper:beta=1", "dro-v:value=single", "dro-v:value=shared"],
            config.Algorithms.Select(a => a.Name));
        Assert.All(config.Algorithms.Take(3), a => Assert.Equal(AlgorithmSpec.MainGroup, a.Group));
        Assert.All(config.Algorithms.Skip(3).Take(4), a => Assert.Equal(AlgorithmSpec.SweepGroup, a.Group));
        Assert.All(config.Algorithms.Skip(7), a => Assert.Equal(AlgorithmSpec.ValueGroup, a.Group));
        config.Validate();
    }

    [Fact]
    public void WithAblations_UsesThePresetsWhenTheListHasNoBaseArm()
    {
        var config = new ExperimentConfig { Algorithms = AlgorithmSpec.ParseList("sft-pos") }.WithAblations([2], [3], valueAblation: false);
        Assert.Equal(["sft-pos", "dro-v:tau=2", "kto-paper:beta=3"], config.Algorithms.Select(a => a.Name));
    }

    [Theory]
    [InlineData("task")]
    [InlineData("seeds")]
    [InlineData("duplicate seeds")]
    [InlineData("rpo")]
    [InlineData("curve")]
    [InlineData("batch")]
    [InlineData("reserved")]
    public void Validate_NamesTheBadSetting(string what)
    {
        var good = new ExperimentConfig();
        var bad = what switch
        {
            "task" => good with { Task = "chess" },
            "seeds" => good with { Seeds = [] },
            "duplicate seeds" => good with { Seeds = [1, 1] },
            "rpo" => good with { Algorithms = AlgorithmSpec.ParseList("rpo") },
            "curve" => good with { CurvePrompts = 300, EvalPrompts = 100 },
            "batch" => good with { FeedbackPrompts = 4, BatchSize = 8 },
            "reserved" => good with { Algorithms = [AlgorithmSpec.Parse("dro-v") with { Name = "sft" }] },
            _ => throw new ArgumentException(what),
        };
        var e = Assert.Throws<ArgumentException>(bad.Validate);
        string expected = what switch
        {
            "task" => "chess",
            "seeds" => "seed",
            "duplicate seeds" => "distinct",
            "rpo" => "several responses",
            "curve" => "curve prompts",
            "batch" => "fewer than one batch",
            _ => "reserved",
        };
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Threshold_DefaultsToTheTasksAndCanBeOverridden()
    {
        var task = ArenaTaskCatalog.Create("arithmetic");
        Assert.Equal(task.DefaultFeedback, new ExperimentConfig().Threshold(task));
        Assert.Equal(new FeedbackThreshold(0.2, 0.3), new ExperimentConfig { FeedbackCenter = 0.2, FeedbackScale = 0.3 }.Threshold(task));
    }
}
