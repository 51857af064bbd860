using System.CommandLine;

namespace DroSharp.Cli.Commands;

/// <summary><c>dro bench gemm [--json]</c>.</summary>
public static class GemmBenchCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per line (m, n, k, layout, gflops, peak_gflops, efficiency)." };
        var cmd = new Command("gemm", "GFLOP/s of the GEMM on the t5-small shapes, all three layouts, against the FMA peak measured in the same run.");
        cmd.Options.Add(json);
        cmd.SetAction(parse =>
        {
            Console.Error.WriteLine("dro bench gemm: not implemented yet");
            return 2;
        });
        return cmd;
    }
}
