using System.Text.Json;
using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>
/// A tiny model directory of any family preset (random weights, seeded) and feedback logs of token
/// ids for trainer tests, in a temporary directory deleted on dispose.
/// </summary>
internal sealed class TrainerFixture : IDisposable
{
    private readonly TempDirectory _temp = new("drosharp-trainer-");

    public TrainerFixture(string preset = "t5-tiny", ulong seed = 3)
    {
        Root = _temp.Path;
        Model = Path.Combine(Root, "model");
        var (family, config) = ModelFamilies.Preset(preset);
        using var policy = family.CreatePolicy(config);
        policy.InitializeWeights(new DeterministicRandom(seed));
        policy.Save(Model);
        Tokens = policy.Tokens;
        VocabSize = config.VocabSize;
    }

    public string Root { get; }

    public string Model { get; }

    public SpecialTokens Tokens { get; }

    public int VocabSize { get; }

    public string Path_(string name) => Path.Combine(Root, name);

    /// <summary>Writes JSONL rows (anonymous objects) and returns the file's path.</summary>
    public string WriteJsonl(string name, IEnumerable<object> rows)
    {
        string path = Path.Combine(Root, name);
        File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(r)));
        return path;
    }

    /// <summary>
    /// Two kinds of prompt (starting with token 5 or token 9, 3–5 tokens); the reward is +1 for kind A and
    /// −1 for kind B whatever the completion, so a value function can learn V(x) from the prompt alone.
    /// </summary>
    public string PromptDependentRewards(string name = "rewards.jsonl", int rows = 64, int seed = 1)
    {
        var rng = new Random(seed);
        return WriteJsonl(name, Enumerable.Range(0, rows).Select(i =>
        {
            bool a = i % 2 == 0;
            int[] prompt = [a ? 5 : 9, .. Enumerable.Range(0, 2 + rng.Next(3)).Select(_ => 20 + rng.Next(40))];
            int[] completion = [.. Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => 20 + rng.Next(40)), Tokens.EosId];
            return (object)new { prompt_ids = prompt, completion_ids = completion, reward = a ? 1.0 : -1.0 };
        }));
    }

    public TrainingOptions Options(string data, string run, string algo = "dro-v") => new()
    {
        Algo = algo, Model = Model, Data = data, Out = Path.Combine(Root, run),
        BatchSize = 8, MaxSteps = 4, WarmupSteps = 0, Schedule = "constant", LearningRate = 1e-3, SaveEvery = 0, LogEvery = 1, Seed = 7,
    };

    public static List<Dictionary<string, JsonElement>> Metrics(RunDirectory run) =>
        File.ReadLines(run.MetricsFile).Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!).ToList();

    public void Dispose() => _temp.Dispose();
}
