using System.CommandLine;
using System.Diagnostics;
using DroSharp.Arena.Pipeline;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro demo</c>: the whole arena pipeline with embedded defaults (<see cref="DemoConfig"/>: one task, a tiny
/// T5, one seed), a few minutes on two cores; prints the win-rate table and writes its report to ./dro-demo/.
/// </summary>
public static class DemoCommand
{
    public const string DefaultOutput = "dro-demo";

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Where the report and runs go (replaced on every demo run).", DefaultValueFactory = _ => DefaultOutput };
        var cmd = new Command("demo",
            "Run the whole pipeline once with embedded defaults — tokenizer, a tiny T5, SFT, simulated thumbs feedback on its samples, " +
            "DRO-V, KTO and SFT-on-positives trained on the same data, evaluation against the known reward — and print the win rates. A few minutes on a laptop CPU.");
        cmd.Options.Add(output);
        cmd.SetAction(parse =>
        {
            var config = DemoConfig.Create(parse.GetValue(output)!) with { CommandLine = "dro demo" };
            Console.WriteLine($"dro demo: task '{config.Task}', {string.Join(", ", config.Algorithms.Select(a => a.Name))} against SFT, seed {config.Seeds[0]}; output in {Path.GetFullPath(config.OutputDirectory)}");
            var clock = Stopwatch.StartNew();
            int code = ExperimentCommand.Run(config, overwrite: true);
            if (code == 0)
                Console.WriteLine($"\nwall time {clock.Elapsed.TotalSeconds:F0} s; report: {Path.Combine(config.OutputDirectory, "report.md")}");
            return code;
        });
        return cmd;
    }
}
