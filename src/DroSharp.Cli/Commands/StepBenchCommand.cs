using System.CommandLine;
using System.Text.Json;
using DroSharp.Cli.Bench;
using DroSharp.Models;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro bench step</c>: one DRO-V training step as the PyTorch peer defines it.</summary>
public static class StepBenchCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model preset ({string.Join(", ", ModelFamilies.PresetNames)}).", DefaultValueFactory = _ => "t5-mini" };
        var batch = new Option<int>("--batch") { Description = "Batch size B.", DefaultValueFactory = _ => 16 };
        var promptLen = new Option<int>("--prompt-len") { Description = "Prompt length P (tokens, no padding).", DefaultValueFactory = _ => 64 };
        var responseLen = new Option<int>("--response-len") { Description = "Response length R.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps after 2 warm-up steps.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: median_step_s, tokens_per_s, peak_rss_mb (and details)." };
        var cmd = new Command("step", "Time the real dro train step (DRO-V: policy and value forward+backward, objective, clipping, AdamW on both) on random tokens, as the PyTorch peers' bench defines it; tokens = B·(P+R).");
        foreach (var o in new Option[] { preset, batch, promptLen, responseLen, steps, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string p = parse.GetValue(preset)!;
            if (ModelFamilies.ForPreset(p) is null) throw new UserErrorException($"unknown preset '{p}'; expected one of {string.Join(", ", ModelFamilies.PresetNames)}");
            int b = parse.GetValue(batch), pl = parse.GetValue(promptLen), rl = parse.GetValue(responseLen), n = parse.GetValue(steps);
            if (b < 1 || pl < 1 || rl < 1 || n < 1) throw new UserErrorException("--batch, --prompt-len, --response-len and --steps must be at least 1");
            bool asJson = parse.GetValue(json);
            var bench = new TrainingStepBenchmark { Preset = p, Batch = b, PromptLength = pl, ResponseLength = rl, Steps = n };
            if (!asJson) Console.WriteLine($"dro bench step: {p}, batch {b}, prompt {pl}, response {rl}, {n} timed steps (+2 warm-up), {Tensors.Threading.WorkerPool.Default.Threads} threads");
            var r = bench.Run(asJson ? null : Console.WriteLine);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["preset"] = r.Preset, ["batch"] = r.Batch, ["prompt_len"] = r.PromptLength, ["response_len"] = r.ResponseLength,
                    ["steps"] = r.Steps, ["median_step_s"] = r.MedianStepSeconds, ["tokens_per_s"] = r.TokensPerSecond,
                    ["peak_rss_mb"] = r.PeakRssMegabytes, ["times_s"] = r.StepSeconds, ["params_policy"] = r.PolicyParameters,
                    ["matmul_gflop_per_step"] = r.MatmulGflopPerStep, ["gflops"] = r.Gflops, ["peak_gflops"] = r.PeakGflops,
                    ["efficiency"] = r.Efficiency, ["peak_trials_gflops"] = r.PeakTrials, ["simd"] = Tensors.Kernels.KernelDispatch.Level.ToString(),
                    ["threads"] = Tensors.Threading.WorkerPool.Default.Threads,
                }));
            }
            else
            {
                Console.WriteLine($"policy parameters: {r.PolicyParameters:N0}");
                Console.WriteLine($"median step time: {r.MedianStepSeconds:F3} s   tokens/s: {r.TokensPerSecond:F1}   peak RSS: {r.PeakRssMegabytes:F0} MiB");
                Console.WriteLine($"matmul: {r.MatmulGflopPerStep:F1} GFLOP per step, {r.Gflops:F1} GFLOP/s; FMA peak beside the steps {r.PeakGflops:F1} GFLOP/s ({Tensors.Kernels.KernelDispatch.Level}); efficiency {r.Efficiency:F3}");
            }
            return 0;
        });
        return cmd;
    }
}
