using System.CommandLine;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro bench gemm|forward|step</c>: the project's performance measurements.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure performance: gemm (kernel GFLOP/s against the machine's FMA peak), forward, step.");
        bench.Subcommands.Add(GemmBenchCommand.Create());
        bench.Subcommands.Add(ForwardBenchCommand.Create());
        bench.Subcommands.Add(StepBenchCommand.Create());
        return bench;
    }
}
