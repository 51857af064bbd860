using System.Text.Json;
using System.Text.Json.Serialization;
using DroSharp.Arena.Reports;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// <c>RUN/evaluations.json</c>: what one trainer run of an arm (one seed, one learning rate) produced — every checkpoint's
/// validation and test evaluation, its losses, time and failures — written once the run is evaluated, so that
/// <c>dro experiment --resume</c> reuses it instead of training again. <see cref="Key"/> holds everything the run's
/// numbers depend on (the trainer options, the hash of π_ref, the evaluation settings); a record whose key differs is
/// not reused.
/// </summary>
internal sealed class RunRecord
{
    public const string FileName = "evaluations.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Key { get; set; } = "";

    public double TrainSeconds { get; set; }

    public long CompletedSteps { get; set; }

    public List<RunFailure> Failures { get; set; } = [];

    /// <summary>Training loss at each logged step.</summary>
    public Dictionary<long, double> Losses { get; set; } = [];

    public List<Checkpoint> Checkpoints { get; set; } = [];

    /// <summary>One evaluated checkpoint (with finite numbers).</summary>
    public sealed class Checkpoint
    {
        public int Step { get; set; }

        public Evaluation Validation { get; set; } = new();

        public Evaluation Test { get; set; } = new();
    }

    /// <summary>A <see cref="PolicyEvaluation"/> without its prompts (the evaluator's, in order).</summary>
    public sealed class Evaluation
    {
        public string[] Samples { get; set; } = [];
        public double[] SampleRewards { get; set; } = [];
        public double[] LogRatios { get; set; } = [];
        public int UnfinishedSamples { get; set; }
        public string[]? Greedy { get; set; }
        public double[]? GreedyRewards { get; set; }

        public static Evaluation From(PolicyEvaluation e) => new()
        {
            Samples = e.Samples, SampleRewards = e.SampleRewards, LogRatios = e.LogRatios, UnfinishedSamples = e.UnfinishedSamples,
            Greedy = e.Greedy, GreedyRewards = e.GreedyRewards,
        };

        public PolicyEvaluation ToEvaluation(IReadOnlyList<string> prompts, string source)
        {
            if (Samples.Length != prompts.Count || SampleRewards.Length != prompts.Count || LogRatios.Length != prompts.Count)
                throw new FormatException($"{source}: an evaluation has {Samples.Length} samples for {prompts.Count} prompts");
            return new PolicyEvaluation
            {
                Prompts = prompts, Samples = Samples, SampleRewards = SampleRewards, LogRatios = LogRatios, UnfinishedSamples = UnfinishedSamples,
                Greedy = Greedy, GreedyRewards = GreedyRewards,
            };
        }
    }

    public void Save(string runDirectory) => AtomicFile.WriteAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>The record of <paramref name="runDirectory"/> when it exists, parses and has <paramref name="key"/>; else null.</summary>
    public static RunRecord? LoadIfCurrent(string runDirectory, string key)
    {
        string path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return null;
        RunRecord? record;
        try
        {
            record = JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path), Json);
        }
        catch (JsonException)
        {
            return null; // a torn or foreign file: train again
        }
        return record is not null && record.Key == key ? record : null;
    }
}
