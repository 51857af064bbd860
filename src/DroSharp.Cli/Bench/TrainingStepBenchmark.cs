using System.Diagnostics;
using DroSharp.Models.T5;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Optim;

namespace DroSharp.Cli.Bench;

/// <summary>
/// One DRO-V training step exactly as the PyTorch peer's <c>t5_peer.py bench</c> defines it: policy
/// forward + backward, value forward + backward on a separate T5 encoder, one AdamW update of both
/// (lr 1e-5, weight decay 0.01); reference log-probs computed once beforehand and not timed; random
/// tokens in [1, vocab) with no padding; 2 warm-up steps, then the median of N timed steps.
/// </summary>
public sealed class TrainingStepBenchmark
{
    public required string Preset { get; init; }
    public int Batch { get; init; } = 16;
    public int PromptLength { get; init; } = 64;
    public int ResponseLength { get; init; } = 64;
    public int Steps { get; init; } = 5;
    public double Tau { get; init; } = 1.0;
    public ulong Seed { get; init; } = 1234;

    public sealed record Result(string Preset, int Batch, int PromptLength, int ResponseLength, int Steps,
        double[] StepSeconds, double MedianStepSeconds, double TokensPerSecond, double PeakRssMegabytes,
        long PolicyParameters, long ValueParameters, double[] MedianPhaseSeconds);

    public Result Run(Action<string>? log = null)
    {
        var cfg = T5Presets.Get(Preset);
        var rng = new DeterministicRandom(Seed);
        using var policy = new T5ForConditionalGeneration(cfg);
        using var value = new T5ValueModel(cfg);
        policy.InitializeWeights(rng);
        value.InitializeWeights(rng);

        var prompts = new List<int[]>();
        var responses = new List<int[]>();
        for (int i = 0; i < Batch; i++)
        {
            prompts.Add(Enumerable.Range(0, PromptLength).Select(_ => 1 + rng.NextInt(cfg.VocabSize - 1)).ToArray());
            responses.Add(Enumerable.Range(0, ResponseLength).Select(_ => 1 + rng.NextInt(cfg.VocabSize - 1)).ToArray());
        }
        using var batch = Seq2SeqBatch.Create(prompts, responses, policy.PadId, policy.DecoderStartId);
        var rewards = Enumerable.Range(0, Batch).Select(_ => rng.NextGaussian()).ToArray();

        // π_ref = the initial policy: its log-probs once, untimed.
        var refLogp = new double[Batch];
        using (var t = new Tape(recording: false))
        using (t.Activate())
        {
            var lp = policy.SequenceLogProbs(batch);
            for (int i = 0; i < Batch; i++) refLogp[i] = lp[i];
        }

        using var policyOpt = new AdamW(policy.Parameters.All, weightDecay: 0.01);
        using var valueOpt = new AdamW(value.Parameters.All, weightDecay: 0.01);
        using var policyTape = new Tape();
        using var valueTape = new Tape();
        using var dLogp = Tensor.Zeros(new Shape(Batch));
        using var dV = Tensor.Zeros(new Shape(Batch));

        var times = new List<double>();
        var phases = new List<double[]>();
        for (int step = 0; step < Steps + 2; step++)
        {
            long t0 = Stopwatch.GetTimestamp();
            policyOpt.ZeroGrad(setToNone: false);
            valueOpt.ZeroGrad(setToNone: false);
            policyTape.Reset();
            valueTape.Reset();
            Tensor logp, v;
            using (policyTape.Activate()) logp = policy.SequenceLogProbs(batch);
            long t1 = Stopwatch.GetTimestamp();
            using (valueTape.Activate()) v = value.Forward(batch.PromptIds, batch.PromptMask);
            long t2 = Stopwatch.GetTimestamp();
            // Plain DRO-V loss ½·mean(res²): dL/dlogπ = −τ·res/B, dL/dV = −res/B (the peer's autograd gradients).
            double loss = 0;
            for (int i = 0; i < Batch; i++)
            {
                double res = rewards[i] - v[i] - Tau * (logp[i] - refLogp[i]);
                loss += 0.5 * res * res / Batch;
                dLogp[i] = (float)(-Tau * res / Batch);
                dV[i] = (float)(-res / Batch);
            }
            policyTape.Backward(logp, dLogp);
            valueTape.Backward(v, dV);
            long t3 = Stopwatch.GetTimestamp();
            policyOpt.Step(1e-5);
            valueOpt.Step(1e-5);
            long t4 = Stopwatch.GetTimestamp();
            double s = Stopwatch.GetElapsedTime(t0, t4).TotalSeconds;
            var ph = new[]
            {
                Stopwatch.GetElapsedTime(t0, t1).TotalSeconds, Stopwatch.GetElapsedTime(t1, t2).TotalSeconds,
                Stopwatch.GetElapsedTime(t2, t3).TotalSeconds, Stopwatch.GetElapsedTime(t3, t4).TotalSeconds,
            };
            log?.Invoke($"  step {step} ({(step < 2 ? "warm-up" : "timed")}): {s:F3} s  loss {loss:F5}  " +
                        $"[policy fwd {ph[0]:F3}, value fwd {ph[1]:F3}, backward {ph[2]:F3}, adamw {ph[3]:F3}]");
            if (step >= 2)
            {
                times.Add(s);
                phases.Add(ph);
            }
        }
        double median = Median(times);
        var medianPhases = Enumerable.Range(0, 4).Select(i => Median(phases.Select(p => p[i]).ToList())).ToArray();
        return new Result(Preset, Batch, PromptLength, ResponseLength, Steps, times.ToArray(), median,
            Batch * (PromptLength + ResponseLength) / median, ProcessMemory.PeakRssMegabytes(),
            policy.Parameters.ElementCount, value.Parameters.ElementCount, medianPhases);
    }

    internal static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
