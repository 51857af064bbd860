using System.Diagnostics;
using System.Text.Json;
using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Tensors;

namespace DroSharp.Cli.Bench;

/// <summary>
/// The real DRO-V training step of <c>dro train</c>, timed: a preset model with random weights and a
/// feedback log of B rows of random tokens in [1, vocab) (no padding; prompt P and completion R
/// tokens; Gaussian rewards) are written to a temporary directory, and <see cref="AlignmentTrainer"/>
/// runs 2 warm-up steps and N timed steps on them with batch B (one micro-batch per step, so every
/// step sees the same B rows): policy and value forward and backward, the objective, clipping and
/// AdamW on both networks (lr 1e-5, weight decay 0.01, constant schedule), as the PyTorch peers'
/// <c>bench</c> define the step. The reference log-probs are computed in the first warm-up step
/// (lazily, as in a real run) and cached. Tokens = B·(P+R) per step. With <see cref="Lora"/> the step
/// is <c>dro train --lora R</c>'s (adapters on every Linear module, dropout 0.05, α = 2r), with
/// <see cref="BaseDtype"/> and <see cref="GradientCheckpointing"/> as there.
/// </summary>
public sealed class TrainingStepBenchmark
{
    public required string Preset { get; init; }
    public int Batch { get; init; } = 16;
    public int PromptLength { get; init; } = 64;
    public int ResponseLength { get; init; } = 64;
    public int Steps { get; init; } = 5;
    public string Algo { get; init; } = "dro-v";
    public ulong Seed { get; init; } = 1234;
    /// <summary>LoRA rank (0: full fine-tuning), as <c>dro train --lora</c>, on every Linear module.</summary>
    public int Lora { get; init; }
    /// <summary>f32 or bf16: the frozen base's Linear weights with LoRA.</summary>
    public string BaseDtype { get; init; } = "f32";
    public bool GradientCheckpointing { get; init; }

    /// <param name="MatmulGflopPerStep">Matrix-product GFLOP of one step (<see cref="Models.MatmulFlops"/>: forward and backward of policy and value).</param>
    /// <param name="PeakGflops">Median of the FMA peak trials run between the timed steps (all threads).</param>
    /// <param name="StepCpuSeconds">Process CPU time of each timed step (all threads).</param>
    /// <param name="CpuEfficiency">
    /// Matmul GFLOP per CPU-second of the median step over the FMA loop's GFLOP per CPU-second (median
    /// of the trials): the step's efficiency in the time its threads actually ran, which time slices
    /// taken by other processes on a loaded machine do not lower (threads blocked waiting for each
    /// other do not count either, spinning does).
    /// </param>
    /// <param name="RecomputedGflopPerStep">The forward GFLOP activation checkpointing runs again in backward (0 without it); not in <paramref name="MatmulGflopPerStep"/>.</param>
    /// <param name="HardwareEfficiency">(matmul + recomputed GFLOP) / median step time / peak: the work the machine did, where <paramref name="Efficiency"/> counts the model's.</param>
    public sealed record Result(string Preset, int Batch, int PromptLength, int ResponseLength, int Steps,
        double[] StepSeconds, double MedianStepSeconds, double TokensPerSecond, double PeakRssMegabytes,
        long PolicyParameters, double MatmulGflopPerStep, double Gflops, double PeakGflops, double Efficiency, double[] PeakTrials,
        double[] StepCpuSeconds, double CpuEfficiency, double RecomputedGflopPerStep, double HardwareEfficiency);

    public Result Run(Action<string>? log = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "dro-bench-step-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (family, cfg) = ModelFamilies.Preset(Preset);
            var rng = new DeterministicRandom(Seed);
            long parameters;
            string modelDir = Path.Combine(root, "model");
            using (var policy = family.CreatePolicy(cfg))
            {
                policy.InitializeWeights(rng);
                policy.Save(modelDir);
                parameters = policy.Parameters.ElementCount;
            }
            string data = Path.Combine(root, "data.jsonl");
            using (var w = new StreamWriter(data))
                for (int i = 0; i < Batch; i++)
                {
                    int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => 1 + rng.NextInt(cfg.VocabSize - 1)).ToArray();
                    w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["prompt_ids"] = Tokens(PromptLength), ["completion_ids"] = Tokens(ResponseLength), ["reward"] = rng.NextGaussian(),
                    }));
                }
            var options = new TrainingOptions
            {
                Algo = Algo, Model = modelDir, Data = data, Out = Path.Combine(root, "run"),
                BatchSize = Batch, MaxSteps = Steps + 2, LearningRate = 1e-5, WeightDecay = 0.01, WarmupSteps = 0, Schedule = "constant",
                SaveEvery = 0, LogEvery = 1, MaxPromptLength = null, MaxCompletionLength = null, Seed = Seed,
                Lora = Lora, BaseDtype = BaseDtype, GradientCheckpointing = GradientCheckpointing,
            };
            var times = new List<double>();
            var cpuTimes = new List<double>();
            var peaks = new List<double>();
            var cpuPeaks = new List<double>();
            var peak = new FmaPeak(Tensors.Threading.WorkerPool.Default.Threads);
            double flops = 0, recomputed = 0;
            using var trainer = new AlignmentTrainer(options, encoder: null, log is null ? TextWriter.Null : new ActionWriter(log));
            long last = 0;
            double lastCpu = 0;
            trainer.StepStarting += _ =>
            {
                lastCpu = ProcessCpuTime.Seconds();
                last = Stopwatch.GetTimestamp();
            };
            trainer.StepCompleted += step =>
            {
                double s = Stopwatch.GetElapsedTime(last).TotalSeconds;
                double cpu = ProcessCpuTime.Seconds() - lastCpu;
                log?.Invoke($"  step {step} ({(step <= 2 ? "warm-up" : "timed")}): {s:F3} s, CPU {cpu:F3} s");
                if (step <= 2) return;
                times.Add(s);
                cpuTimes.Add(cpu);
                flops = trainer.LastStepMatmulFlops;
                recomputed = trainer.LastStepRecomputedFlops;
                // The FMA peak beside each timed step (between steps, outside the timing).
                for (int i = 0; i < 3; i++)
                {
                    var (wall, perCpu) = peak.TrialWithCpu();
                    peaks.Add(wall);
                    cpuPeaks.Add(perCpu);
                }
            };
            trainer.Train(resume: false, CancellationToken.None);
            double median = Median(times);
            double gflops = flops / 1e9 / median, peakGflops = Median(peaks);
            double cpuEfficiency = flops / 1e9 / Median(cpuTimes) / Median(cpuPeaks);
            return new Result(Preset, Batch, PromptLength, ResponseLength, Steps, times.ToArray(), median,
                Batch * (PromptLength + ResponseLength) / median, ProcessMemory.PeakRssMegabytes(), parameters,
                flops / 1e9, gflops, peakGflops, gflops / peakGflops, peaks.ToArray(), cpuTimes.ToArray(), cpuEfficiency,
                recomputed / 1e9, (flops + recomputed) / 1e9 / median / peakGflops);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    internal static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>Lines written to it go to an action (the benchmark's log).</summary>
    private sealed class ActionWriter(Action<string> write) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value)
        {
            if (value == '\n') { write("  " + _line); _line.Clear(); }
            else if (value != '\r') _line.Append(value);
        }
    }
}
