using System.Diagnostics;
using DroSharp.Models;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Cli.Bench;

/// <summary>
/// Scoring throughput: sequence log-probs (the whole forward, vocabulary projection and fused
/// log-softmax-gather), forward only, on random unpadded tokens. Tokens = B·(P+R) per pass.
/// </summary>
public sealed class ForwardBenchmark
{
    public required string Preset { get; init; }
    public int Batch { get; init; } = 8;
    public int PromptLength { get; init; } = 128;
    public int ResponseLength { get; init; } = 64;
    public int Steps { get; init; } = 5;
    public ulong Seed { get; init; } = 1234;

    public sealed record Result(string Preset, int Batch, int PromptLength, int ResponseLength, int Steps,
        double MedianSeconds, double TokensPerSecond, double PeakRssMegabytes);

    public Result Run(Action<string>? log = null)
    {
        var (family, cfg) = ModelFamilies.Preset(Preset);
        var rng = new DeterministicRandom(Seed);
        using var policy = family.CreatePolicy(cfg);
        policy.InitializeWeights(rng);
        var prompts = Enumerable.Range(0, Batch).Select(_ => Enumerable.Range(0, PromptLength).Select(_ => 1 + rng.NextInt(cfg.VocabSize - 1)).ToArray()).ToList();
        var responses = Enumerable.Range(0, Batch).Select(_ => Enumerable.Range(0, ResponseLength).Select(_ => 1 + rng.NextInt(cfg.VocabSize - 1)).ToArray()).ToList();
        using var batch = policy.CreateBatch(prompts, responses);
        using var tape = new Tape(recording: false);
        var times = new List<double>();
        for (int step = 0; step < Steps + 1; step++)
        {
            long t0 = Stopwatch.GetTimestamp();
            using (tape.Activate()) PolicyScoring.SequenceLogProbs(policy.Forward(batch), batch, lengthNormalize: false);
            tape.Reset();
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            log?.Invoke($"  pass {step} ({(step < 1 ? "warm-up" : "timed")}): {s:F3} s");
            if (step >= 1) times.Add(s);
        }
        double median = TrainingStepBenchmark.Median(times);
        return new Result(Preset, Batch, PromptLength, ResponseLength, Steps, median, Batch * (PromptLength + ResponseLength) / median, ProcessMemory.PeakRssMegabytes());
    }
}
