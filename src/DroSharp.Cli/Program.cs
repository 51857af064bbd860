using System.CommandLine;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;
using DroSharp.Cli.Commands;
using DroSharp.Distributed;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Cli;

/// <summary>Entry point of the <c>dro</c> command. Exit codes: 0 success, 1 user error, 2 internal fault.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = BuildRoot();
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"dro: {CliErrors.OneLine(e)}");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"dro: internal error: {e}");
            return 2;
        }
    }

    /// <summary>Bad input, bad options, missing files: one line, no stack trace.</summary>
    internal static bool IsUserError(Exception e) => CliErrors.IsUserError(e);

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "DroSharp: align language models with single-trajectory feedback (prompt, response, thumbs up/down or score) " +
            "using Direct Reward Optimisation, on the CPU, with Hugging Face formats.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(InitCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(MergeCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(GgufCommand.Create());
        root.Subcommands.Add(TokenizerCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(TemplateCommand.Create());
        return root;
    }
}
