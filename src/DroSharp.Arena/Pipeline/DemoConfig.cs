namespace DroSharp.Arena.Pipeline;

/// <summary>
/// The embedded defaults of <c>dro demo</c>: the arithmetic task (is the sum right?), the arena's tiny T5,
/// one seed, DRO-V against the paper's KTO, KTO with TRL's defaults and SFT on the thumbs-up responses, each at
/// the shared learning rate, its step (100, 200 or 300) chosen on the validation prompts.
/// Everything else is <see cref="ExperimentConfig"/>'s defaults, as <c>dro experiment</c> uses them.
/// </summary>
public static class DemoConfig
{
    public static ExperimentConfig Create(string outputDirectory) => new()
    {
        Task = "arithmetic",
        Algorithms = AlgorithmSpec.ParseList("dro-v,kto-paper,kto-trl,sft-pos"),
        Seeds = [1],
        TestPrompts = 512,
        CheckpointEvery = 100,
        OutputDirectory = outputDirectory,
    };
}
