using DroSharp.Arena.Pipeline;

namespace DroSharp.Arena.Tests.Pipeline;

/// <summary>An experiment small enough to run in a test: a 1+1-layer, d_model 16 T5 (or a 2-layer Llama), a handful of steps and prompts.</summary>
internal static class TinyExperiment
{
    public static readonly ModelSize Model = new() { DModel = 16, DFf = 32, DKv = 8, Heads = 2, EncoderLayers = 1, DecoderLayers = 1 };

    public static readonly ModelSize Llama = new() { Family = ModelSize.Llama, DModel = 16, DFf = 32, DKv = 8, Heads = 2, EncoderLayers = 0, DecoderLayers = 2 };

    public static ExperimentConfig Config(string directory, string algorithms = "dro-v,kto-paper,sft-pos", params ulong[] seeds) => new()
    {
        Task = "arithmetic",
        Algorithms = AlgorithmSpec.ParseList(algorithms),
        Seeds = seeds.Length == 0 ? [7] : seeds,
        OutputDirectory = directory,
        Model = Model,
        SftExamples = 64, SftSteps = 8, SftBatchSize = 8, SftWarmupSteps = 2, SftLearningRate = 3e-3,
        // Thumbs up with probability σ(r / 0.1): at least ½ for every response, so SFT-on-positives has enough rows.
        FeedbackPrompts = 32, FeedbackCenter = 0.0, FeedbackScale = 0.1,
        Steps = 4, BatchSize = 8, WarmupSteps = 1,
        ValidationPrompts = 10, TestPrompts = 12, CheckpointEvery = 2, GenerationBatchSize = 8, SampleCount = 1,
    };
}
