using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Threading;

namespace DroSharp.Cli.Bench;

/// <summary>
/// The machine's float32 FMA peak, measured: every worker thread runs a register-only loop of
/// independent FMA chains (16 accumulators for Vector512, 12 for Vector256 and scalar so that they fit the 16 registers of an
/// AVX2-only machine; either covers the FMA latency on two ports) at the
/// widest SIMD level the kernels use, all threads at once. GFLOP/s = 2 · lanes · FMAs / s, summed.
/// On a shared or virtualised machine the peak moves (clock, a busy sibling hyper-thread on the
/// host), so the benchmark takes short trials right beside the measurements they are compared to.
/// </summary>
public sealed class FmaPeak
{

    private readonly int _threads;
    private readonly SimdLevel _level;
    private readonly int _lanes;
    private readonly int _chains;
    private readonly long _iterations;

    /// <summary>Prepares the loop for <paramref name="threads"/> threads, one trial lasting about <paramref name="trialSeconds"/>.</summary>
    public FmaPeak(int threads, double trialSeconds = 0.02)
    {
        _threads = Math.Clamp(threads, 1, WorkerPool.Default.Threads);
        _level = KernelDispatch.Level;
        _lanes = _level switch { SimdLevel.Vector512 => 16, SimdLevel.Vector256 => 8, _ => 1 };
        _chains = _level == SimdLevel.Vector512 ? 16 : 12;
        // Calibrate on one thread, after the JIT has compiled the loop.
        long iterations = 1 << 14;
        RunOne(_level, iterations);
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            RunOne(_level, iterations);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (s > trialSeconds / 4) { _iterations = Math.Max(1, (long)(iterations * trialSeconds / s)); break; }
            iterations *= 4;
        }
    }

    public int Threads => _threads;

    /// <summary>One trial on all threads at once: GFLOP/s summed over the threads.</summary>
    public double Trial() => TrialWithCpu().Gflops;

    /// <summary>
    /// One trial on all threads at once: GFLOP/s summed over the threads, and GFLOP per second of
    /// process CPU time (what one thread does while it runs: unlike the first, not lowered when other
    /// processes take the cores).
    /// </summary>
    public (double Gflops, double GflopPerCpuSecond) TrialWithCpu()
    {
        var job = new PeakJob(_level, _iterations);
        double cpu0 = ProcessCpuTime.Seconds();
        long t0 = Stopwatch.GetTimestamp();
        WorkerPool.Default.For(_threads, ref job);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        double cpuSeconds = ProcessCpuTime.Seconds() - cpu0;
        double gflop = 2.0 * _lanes * _chains * _iterations * _threads / 1e9;
        return (gflop / seconds, gflop / Math.Max(cpuSeconds, 1e-9));
    }

    /// <summary>The best of <paramref name="trials"/> trials.</summary>
    public double Best(int trials)
    {
        double best = 0;
        for (int i = 0; i < trials; i++) best = Math.Max(best, Trial());
        return best;
    }

    private readonly struct PeakJob(SimdLevel level, long iterations) : IParallelJob
    {
        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++) RunOne(level, iterations);
        }
    }

    private static float s_sink;

    private static void RunOne(SimdLevel level, long iterations)
    {
        float r = level switch
        {
            SimdLevel.Vector512 => Loop512(iterations),
            SimdLevel.Vector256 => Loop256(iterations),
            _ => LoopScalar(iterations),
        };
        Volatile.Write(ref s_sink, r);
    }

    // a ← a·m + d on 16 independent registers: converges to d/(1−m), never overflows or goes subnormal.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iterations)
    {
        var m = Vector512.Create(0.999f);
        var d = Vector512.Create(0.001f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = Vector512.Create(2f), a2 = Vector512.Create(3f), a3 = Vector512.Create(4f);
        Vector512<float> a4 = a0 + a3, a5 = a1 + a3, a6 = a2 + a3, a7 = a3 + a3;
        Vector512<float> a8 = a7 + a0, a9 = a7 + a1, a10 = a7 + a2, a11 = a7 + a3;
        Vector512<float> a12 = a11 + a0, a13 = a11 + a1, a14 = a11 + a2, a15 = a11 + a3;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, d); a1 = Vector512.FusedMultiplyAdd(a1, m, d);
            a2 = Vector512.FusedMultiplyAdd(a2, m, d); a3 = Vector512.FusedMultiplyAdd(a3, m, d);
            a4 = Vector512.FusedMultiplyAdd(a4, m, d); a5 = Vector512.FusedMultiplyAdd(a5, m, d);
            a6 = Vector512.FusedMultiplyAdd(a6, m, d); a7 = Vector512.FusedMultiplyAdd(a7, m, d);
            a8 = Vector512.FusedMultiplyAdd(a8, m, d); a9 = Vector512.FusedMultiplyAdd(a9, m, d);
            a10 = Vector512.FusedMultiplyAdd(a10, m, d); a11 = Vector512.FusedMultiplyAdd(a11, m, d);
            a12 = Vector512.FusedMultiplyAdd(a12, m, d); a13 = Vector512.FusedMultiplyAdd(a13, m, d);
            a14 = Vector512.FusedMultiplyAdd(a14, m, d); a15 = Vector512.FusedMultiplyAdd(a15, m, d);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15));
        return Vector512.Sum(s);
    }

    // 12 chains: with m and d that is 14 registers, within the 16 ymm registers of an AVX2-only
    // machine (16 chains spill there and the "peak" fell below what the GEMM reaches); 12 still
    // covers 2 FMA ports × 4-5 cycles of latency.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iterations)
    {
        var m = Vector256.Create(0.999f);
        var d = Vector256.Create(0.001f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = Vector256.Create(2f), a2 = Vector256.Create(3f), a3 = Vector256.Create(4f);
        Vector256<float> a4 = a0 + a3, a5 = a1 + a3, a6 = a2 + a3, a7 = a3 + a3;
        Vector256<float> a8 = a7 + a0, a9 = a7 + a1, a10 = a7 + a2, a11 = a7 + a3;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, d); a1 = Vector256.FusedMultiplyAdd(a1, m, d);
            a2 = Vector256.FusedMultiplyAdd(a2, m, d); a3 = Vector256.FusedMultiplyAdd(a3, m, d);
            a4 = Vector256.FusedMultiplyAdd(a4, m, d); a5 = Vector256.FusedMultiplyAdd(a5, m, d);
            a6 = Vector256.FusedMultiplyAdd(a6, m, d); a7 = Vector256.FusedMultiplyAdd(a7, m, d);
            a8 = Vector256.FusedMultiplyAdd(a8, m, d); a9 = Vector256.FusedMultiplyAdd(a9, m, d);
            a10 = Vector256.FusedMultiplyAdd(a10, m, d); a11 = Vector256.FusedMultiplyAdd(a11, m, d);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float LoopScalar(long iterations)
    {
        float a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8;
        float a8 = 9, a9 = 10, a10 = 11, a11 = 12;
        const float m = 0.999f, d = 0.001f;
        for (long i = 0; i < iterations; i++)
        {
            a0 = a0 * m + d; a1 = a1 * m + d; a2 = a2 * m + d; a3 = a3 * m + d;
            a4 = a4 * m + d; a5 = a5 * m + d; a6 = a6 * m + d; a7 = a7 * m + d;
            a8 = a8 * m + d; a9 = a9 * m + d; a10 = a10 * m + d; a11 = a11 * m + d;
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    }
}
