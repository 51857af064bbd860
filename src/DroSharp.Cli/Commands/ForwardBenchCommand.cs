using System.CommandLine;
using System.Text.Json;
using DroSharp.Cli.Bench;
using DroSharp.Models;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro bench forward</c>: tokens/s of scoring (sequence log-probs, forward only).</summary>
public static class ForwardBenchCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model preset ({string.Join(", ", ModelFamilies.PresetNames)}).", DefaultValueFactory = _ => "t5-small" };
        var batch = new Option<int>("--batch") { Description = "Batch size B.", DefaultValueFactory = _ => 8 };
        var promptLen = new Option<int>("--prompt-len") { Description = "Prompt length P.", DefaultValueFactory = _ => 128 };
        var responseLen = new Option<int>("--response-len") { Description = "Response length R.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed passes after one warm-up pass.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: median_s, tokens_per_s, peak_rss_mb." };
        var cmd = new Command("forward", "Tokens/s of scoring (forward only: log π(y|x) for a batch), t5-small shapes by default.");
        foreach (var o in new Option[] { preset, batch, promptLen, responseLen, steps, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string p = parse.GetValue(preset)!;
            if (ModelFamilies.ForPreset(p) is null) throw new UserErrorException($"unknown preset '{p}'; expected one of {string.Join(", ", ModelFamilies.PresetNames)}");
            if (parse.GetValue(batch) < 1 || parse.GetValue(promptLen) < 1 || parse.GetValue(responseLen) < 1 || parse.GetValue(steps) < 1)
                throw new UserErrorException("--batch, --prompt-len, --response-len and --steps must be at least 1");
            var bench = new ForwardBenchmark { Preset = p, Batch = parse.GetValue(batch), PromptLength = parse.GetValue(promptLen), ResponseLength = parse.GetValue(responseLen), Steps = parse.GetValue(steps) };
            bool asJson = parse.GetValue(json);
            var r = bench.Run(asJson ? null : Console.WriteLine);
            if (asJson)
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["preset"] = r.Preset, ["batch"] = r.Batch, ["prompt_len"] = r.PromptLength, ["response_len"] = r.ResponseLength,
                    ["median_s"] = r.MedianSeconds, ["tokens_per_s"] = r.TokensPerSecond, ["peak_rss_mb"] = r.PeakRssMegabytes,
                }));
            else
                Console.WriteLine($"{r.Preset} B{r.Batch} P{r.PromptLength} R{r.ResponseLength}: median {r.MedianSeconds:F3} s per pass, {r.TokensPerSecond:F0} tokens/s, peak RSS {r.PeakRssMegabytes:F0} MiB");
            return 0;
        });
        return cmd;
    }
}
