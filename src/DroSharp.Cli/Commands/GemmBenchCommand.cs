using System.CommandLine;
using System.Globalization;
using DroSharp.Cli.Bench;
using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Threading;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro bench gemm [--json] [--threads N] [--repeat R] [--shape MxNxK]… [--bf16]</c>: the median GFLOP/s of
/// <see cref="Gemm"/> on each shape in the three layouts, and its efficiency: GFLOP/s ÷ the float32
/// FMA peak of the machine, measured in the same run between the GEMM repetitions (median trial).
/// With <c>--bf16</c> the NN and NT rows are each followed by the same product with B stored in
/// bfloat16 (<see cref="Gemm.ComputeBFloat16B"/>: a frozen Linear weight, forward NT and input gradient NN).
/// </summary>
public static class GemmBenchCommand
{
    private static readonly GemmLayout[] Layouts = [GemmLayout.NN, GemmLayout.NT, GemmLayout.TN];

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per line (m, n, k, layout, gflops, peak_gflops, efficiency)." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (the pool size, as DROSHARP_THREADS; default: all cores)." };
        var repeat = new Option<int>("--repeat") { Description = "Timed repetitions per shape and layout; the median is reported.", DefaultValueFactory = _ => 7 };
        var bf16 = new Option<bool>("--bf16") { Description = "Also time the NN and NT rows with B stored in bfloat16 and widened in the packing (a frozen weight)." };
        var shapes = new Option<string[]>("--shape")
        {
            Description = "A shape m×n×k to measure instead of the t5-small set, e.g. 1024x1024x1024 (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        // Validated while parsing, so that bad values give one clear line and exit code 1.
        threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } t && t < 1) r.AddError($"--threads must be at least 1 (got {t})");
        });
        repeat.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is var n && n < 1) r.AddError($"--repeat must be at least 1 (got {n})");
        });
        shapes.Validators.Add(r =>
        {
            foreach (var s in r.GetValueOrDefault<string[]>() ?? [])
                if (TryParseShape(s) is null) r.AddError($"--shape '{s}': expected m×n×k with positive integers, e.g. 1024x1024x1024");
        });
        var cmd = new Command("gemm", "GFLOP/s of the GEMM on the t5-small shapes, all three layouts, against the FMA peak measured in the same run.");
        cmd.Options.Add(json);
        cmd.Options.Add(threads);
        cmd.Options.Add(repeat);
        cmd.Options.Add(shapes);
        cmd.Options.Add(bf16);
        cmd.SetAction(parse => Run(parse.GetValue(json), parse.GetValue(threads), parse.GetValue(repeat), parse.GetValue(shapes), parse.GetValue(bf16)));
        return cmd;
    }

    private static int Run(bool json, int? threads, int repeat, string[]? shapeArgs, bool bf16)
    {
        var shapes = shapeArgs is { Length: > 0 } ? shapeArgs.Select(s => TryParseShape(s)!.Value).ToArray() : GemmBenchmark.DefaultShapes;
        if (threads is { } t)
        {
            // The pool is created on first use with DROSHARP_THREADS threads; nothing has used it yet.
            Environment.SetEnvironmentVariable("DROSHARP_THREADS", t.ToString(CultureInfo.InvariantCulture));
            if (WorkerPool.Default.Threads != t)
                throw new UserErrorException($"--threads {t}: the worker pool already runs {WorkerPool.Default.Threads} threads");
        }
        int poolThreads = WorkerPool.Default.Threads;
        var peak = new FmaPeak(poolThreads);
        double startPeak = peak.Best(7);
        if (!json)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"FMA peak: {startPeak:F1} GFLOP/s float32 at the start ({poolThreads} threads, {KernelDispatch.Level}); each row: GEMM median of {repeat} after a warm-up, against the median of the peak trials taken between its repetitions"));
            Console.WriteLine(FormattableString.Invariant($"{"m",6} {"n",6} {"k",6}  {"layout",-6} {"B",-4} {"GFLOP/s",8} {"peak",8}  {"efficiency",10}"));
        }
        bool abovePeak = false;
        foreach (var (m, n, k) in shapes)
        foreach (var layout in Layouts)
        foreach (bool b16 in bf16 && layout != GemmLayout.TN ? [false, true] : new[] { false })
        {
            var r = GemmBenchmark.Measure(m, n, k, layout, repeat, peak, b16);
            string bType = b16 ? "bf16" : "f32";
            Console.WriteLine(json
                ? FormattableString.Invariant(
                    $"{{\"m\":{m},\"n\":{n},\"k\":{k},\"layout\":\"{layout}\",\"b_dtype\":\"{bType}\",\"gflops\":{r.Gflops:F2},\"peak_gflops\":{r.PeakGflops:F2},\"efficiency\":{r.Efficiency:F4},\"threads\":{poolThreads}}}")
                : FormattableString.Invariant($"{m,6} {n,6} {k,6}  {layout,-6} {bType,-4} {r.Gflops,8:F1} {r.PeakGflops,8:F1}  {r.Efficiency,10:F3}"));
            abovePeak |= r.Efficiency > 1.05;
        }
        // A GEMM cannot beat the FMA loop it is compared with; if it did, the peak loop is wrong for this CPU
        // (as the 16-chain Vector256 loop was on AVX2-only machines, where it spilled registers).
        if (abovePeak)
            Console.Error.WriteLine("warning: a GEMM ran faster than the measured FMA peak; the peak loop underestimates this CPU, so the efficiencies above are too high");
        return 0;
    }

    private static (int M, int N, int K)? TryParseShape(string s)
    {
        var parts = s.Split('x', '×', 'X');
        if (parts.Length == 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int m) && m > 0
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k > 0)
            return (m, n, k);
        return null;
    }
}
