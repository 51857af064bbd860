using System.CommandLine;
using DroSharp.Cli.Commands;

namespace DroSharp.Cli;

/// <summary>Entry point of the <c>dro</c> command. Exit codes: 0 success, 1 user error, 2 internal fault.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = BuildRoot();
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (UserErrorException e)
        {
            Console.Error.WriteLine($"dro: {e.Message}");
            return 1;
        }
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "DroSharp: align language models with single-trajectory feedback (prompt, response, thumbs up/down or score) " +
            "using Direct Reward Optimisation, on the CPU, with Hugging Face formats.");
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(TokenizerCommand.Create());
        return root;
    }
}
