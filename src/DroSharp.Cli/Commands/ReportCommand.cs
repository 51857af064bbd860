using System.CommandLine;
using DroSharp.Alignment.Training;
using DroSharp.Arena.Reports;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro report RUN [--out FILE]</c>: a self-contained HTML page of a training run (curves, held-out
/// signals, warnings, samples of π_ref and of the final policy decoded with the model's tokenizer).
/// <c>dro train</c> writes it to RUN/report.html at the end of every run.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var cmd = new Command("report", "Write an HTML report of a training run: loss, residual, log-ratio, value, learning rate and gradient-norm curves, the held-out signals, the warnings, and samples of π_ref next to the final policy.");
        var run = new Argument<string>("run") { Description = "The run directory (what dro train --out created)." };
        var output = new Option<string?>("--out") { Description = "The HTML file to write [default: RUN/report.html]." };
        cmd.Arguments.Add(run);
        cmd.Options.Add(output);
        cmd.SetAction(parse =>
        {
            Console.WriteLine(WriteReport(parse.GetValue(run)!, parse.GetValue(output)));
            return 0;
        });
        return cmd;
    }

    /// <summary>Writes the report of <paramref name="runDirectory"/>, decoding samples with the run's tokenizer when it has one; returns the file's path.</summary>
    internal static string WriteReport(string runDirectory, string? output)
    {
        if (!Directory.Exists(runDirectory)) throw new UserErrorException($"{runDirectory} is not a directory");
        var run = new RunDirectory(runDirectory);
        // The tokenizer final/ carries, else the one of the model the run started from.
        var tokenizer = ModelDirectory.LoadTokenizer(run.FinalDirectory) ?? StartingModelTokenizer(run);
        Func<int[], string>? decode = tokenizer is null ? null : ids => tokenizer.Decode(ids, skipSpecialTokens: true);
        return RunReportWriter.Write(runDirectory, decode, output);
    }

    private static Text.Tokenizer? StartingModelTokenizer(RunDirectory run)
    {
        if (!File.Exists(run.OptionsFile)) return null;
        var options = TrainingOptions.FromJson(File.ReadAllText(run.OptionsFile), run.OptionsFile);
        return Directory.Exists(options.Model) ? ModelDirectory.LoadTokenizer(options.Model) : null;
    }
}
