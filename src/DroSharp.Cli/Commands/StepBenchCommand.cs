using System.CommandLine;
using System.Text.Json;
using DroSharp.Cli.Bench;
using DroSharp.Models.T5;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro bench step</c>: one DRO-V training step as the PyTorch peer defines it.</summary>
public static class StepBenchCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model preset ({string.Join(", ", T5Presets.Names)}).", DefaultValueFactory = _ => "t5-mini" };
        var batch = new Option<int>("--batch") { Description = "Batch size B.", DefaultValueFactory = _ => 16 };
        var promptLen = new Option<int>("--prompt-len") { Description = "Prompt length P (tokens, no padding).", DefaultValueFactory = _ => 64 };
        var responseLen = new Option<int>("--response-len") { Description = "Response length R.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps after 2 warm-up steps.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: median_step_s, tokens_per_s, peak_rss_mb (and details)." };
        var cmd = new Command("step", "Time one DRO-V training step (policy and value forward+backward, AdamW on both) like t5_peer.py bench; tokens = B·(P+R).");
        foreach (var o in new Option[] { preset, batch, promptLen, responseLen, steps, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string p = parse.GetValue(preset)!;
            if (!T5Presets.TryGet(p, out _)) throw new UserErrorException($"unknown preset '{p}'; expected one of {string.Join(", ", T5Presets.Names)}");
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
                    ["peak_rss_mb"] = r.PeakRssMegabytes, ["times_s"] = r.StepSeconds, ["median_phases_s"] = r.MedianPhaseSeconds,
                    ["params_policy"] = r.PolicyParameters, ["params_value"] = r.ValueParameters,
                    ["threads"] = Tensors.Threading.WorkerPool.Default.Threads,
                }));
            }
            else
            {
                Console.WriteLine($"params: policy {r.PolicyParameters:N0}  value {r.ValueParameters:N0}");
                Console.WriteLine($"median step time: {r.MedianStepSeconds:F3} s   tokens/s: {r.TokensPerSecond:F1}   peak RSS: {r.PeakRssMegabytes:F0} MiB");
                Console.WriteLine($"median phases: policy fwd {r.MedianPhaseSeconds[0]:F3}, value fwd {r.MedianPhaseSeconds[1]:F3}, backward {r.MedianPhaseSeconds[2]:F3}, adamw {r.MedianPhaseSeconds[3]:F3} s");
            }
            return 0;
        });
        return cmd;
    }
}
