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
        var lora = new Option<int>("--lora") { Description = "LoRA rank r on every Linear module (0: full fine-tuning), as dro train --lora.", DefaultValueFactory = _ => 0 };
        var baseDtype = new Option<string>("--base-dtype") { Description = "With --lora: the frozen base's Linear weights in f32 or bf16.", DefaultValueFactory = _ => "f32" };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each block's forward in backward, as dro train --gradient-checkpointing." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: median_step_s, tokens_per_s, peak_rss_mb (and details)." };
        var cmd = new Command("step", "Time the real dro train step (DRO-V: policy and value forward+backward, objective, clipping, AdamW on both) on random tokens, as the PyTorch peers' bench defines it; tokens = B·(P+R).");
        foreach (var o in new Option[] { preset, batch, promptLen, responseLen, steps, lora, baseDtype, checkpointing, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string p = parse.GetValue(preset)!;
            if (ModelFamilies.ForPreset(p) is null) throw new UserErrorException($"unknown preset '{p}'; expected one of {string.Join(", ", ModelFamilies.PresetNames)}");
            int b = parse.GetValue(batch), pl = parse.GetValue(promptLen), rl = parse.GetValue(responseLen), n = parse.GetValue(steps);
            if (b < 1 || pl < 1 || rl < 1 || n < 1) throw new UserErrorException("--batch, --prompt-len, --response-len and --steps must be at least 1");
            bool asJson = parse.GetValue(json);
            int r16 = parse.GetValue(lora);
            string dtype = parse.GetValue(baseDtype)!;
            bool gc = parse.GetValue(checkpointing);
            if (r16 < 0) throw new UserErrorException("--lora must be ≥ 0");
            if (dtype is not ("f32" or "bf16")) throw new UserErrorException($"--base-dtype must be f32 or bf16, not '{dtype}'");
            if (dtype == "bf16" && r16 == 0) throw new UserErrorException("--base-dtype bf16 stores a frozen base: it needs --lora R");
            var bench = new TrainingStepBenchmark { Preset = p, Batch = b, PromptLength = pl, ResponseLength = rl, Steps = n, Lora = r16, BaseDtype = dtype, GradientCheckpointing = gc };
            string config = (r16 > 0 ? $"LoRA r {r16}, base {dtype}" : "full fine-tuning") + (gc ? ", gradient checkpointing" : "");
            if (!asJson) Console.WriteLine($"dro bench step: {p}, batch {b}, prompt {pl}, response {rl}, {config}, {n} timed steps (+2 warm-up), {Tensors.Threading.WorkerPool.Default.Threads} threads");
            var r = bench.Run(asJson ? null : Console.WriteLine);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["preset"] = r.Preset, ["batch"] = r.Batch, ["prompt_len"] = r.PromptLength, ["response_len"] = r.ResponseLength,
                    ["steps"] = r.Steps, ["median_step_s"] = r.MedianStepSeconds, ["tokens_per_s"] = r.TokensPerSecond,
                    ["peak_rss_mb"] = r.PeakRssMegabytes, ["times_s"] = r.StepSeconds, ["params_policy"] = r.PolicyParameters,
                    ["matmul_gflop_per_step"] = r.MatmulGflopPerStep, ["gflops"] = r.Gflops, ["peak_gflops"] = r.PeakGflops,
                    ["efficiency"] = r.Efficiency, ["recomputed_gflop_per_step"] = r.RecomputedGflopPerStep,
                    ["hardware_efficiency"] = r.HardwareEfficiency, ["peak_trials_gflops"] = r.PeakTrials,
                    ["cpu_s"] = r.StepCpuSeconds, ["cpu_efficiency"] = r.CpuEfficiency, ["simd"] = Tensors.Kernels.KernelDispatch.Level.ToString(),
                    ["threads"] = Tensors.Threading.WorkerPool.Default.Threads,
                    ["lora"] = r16, ["base_dtype"] = dtype, ["gradient_checkpointing"] = gc,
                }));
            }
            else
            {
                Console.WriteLine($"policy parameters: {r.PolicyParameters:N0}");
                Console.WriteLine($"median step time: {r.MedianStepSeconds:F3} s   tokens/s: {r.TokensPerSecond:F1}   peak RSS: {r.PeakRssMegabytes:F0} MiB");
                Console.WriteLine($"matmul: {r.MatmulGflopPerStep:F1} GFLOP per step, {r.Gflops:F1} GFLOP/s; FMA peak beside the steps {r.PeakGflops:F1} GFLOP/s ({Tensors.Kernels.KernelDispatch.Level}); efficiency {r.Efficiency:F3}");
                if (r.RecomputedGflopPerStep > 0)
                    Console.WriteLine($"checkpointing: {r.RecomputedGflopPerStep:F1} GFLOP of forward recomputed per step (not counted above); efficiency counting it {r.HardwareEfficiency:F3}");
                Console.WriteLine($"CPU time: median {TrainingStepBenchmark.Median([.. r.StepCpuSeconds]):F3} s per step; efficiency per CPU-second {r.CpuEfficiency:F3}");
            }
            return 0;
        });
        return cmd;
    }
}
