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
    [InlineData("lr grid")]
    [InlineData("optimum")]
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
            "lr grid" => good with { LearningRates = [1e-4, 1e-4] },
            "optimum" => good with { OptimumSamples = 1 },
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
            "lr grid" => "twice",
            "optimum" => "optimum samples",
            "batch" => "fewer than one batch",
            _ => "reserved",
        };
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void LearningRatesFor_AnArmsOwnRateReplacesTheGrid()
    {
        var config = new ExperimentConfig { LearningRate = 2e-4 };
        Assert.Equal([2e-4], config.LearningRatesFor(AlgorithmSpec.Parse("dro-v")));
        config = config with { LearningRates = [1e-5, 1e-4] };
        Assert.Equal([1e-5, 1e-4], config.LearningRatesFor(AlgorithmSpec.Parse("dro-v")));
        Assert.Equal([1e-6], config.LearningRatesFor(AlgorithmSpec.Parse("kto-trl:lr=1e-6")));
    }

    [Fact]
    public void ModelSize_LlamaMatchingHasAboutTheT5sWeights()
    {
        var t5 = new ModelSize();
        var llama = ModelSize.LlamaMatching(t5);
        Assert.Equal(ModelSize.Llama, llama.Family);
        Assert.Equal(0, llama.EncoderLayers);
        Assert.Equal(5, llama.DecoderLayers); // 2·(4·64·64 + 3·64·128) + 2·(8·64·64 + 3·64·128) = 196,608 ≈ 4.8 Llama layers of 40,960
        var big = new ModelSize { DModel = 256, DFf = 1024, DKv = 64, Heads = 4, EncoderLayers = 4, DecoderLayers = 4 };
        Assert.Equal(9, ModelSize.LlamaMatching(big).DecoderLayers); // a = 256·256, f = 256·1024: 4·(4a + 3f) + 4·(8a + 3f) = 9,437,184 = 9·(4a + 3f)
        Assert.Throws<ArgumentException>(() => (t5 with { Family = ModelSize.Llama }).Validate()); // a Llama has no encoder layers
        Assert.Throws<ArgumentException>(() => (llama with { Family = "gpt" }).Validate());
    }

    [Fact]
    public void Threshold_DefaultsToTheTasksAndCanBeOverridden()
    {
        var task = ArenaTaskCatalog.Create("arithmetic");
        Assert.Equal(task.DefaultFeedback, new ExperimentConfig().Threshold(task));
        Assert.Equal(new FeedbackThreshold(0.2, 0.3), new ExperimentConfig { FeedbackCenter = 0.2, FeedbackScale = 0.3 }.Threshold(task));
    }
}
