using System.Diagnostics;
using System.Runtime.InteropServices;
using DroSharp.Tensors;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Cli.Bench;

/// <summary>
/// One measured GEMM shape: m×n×k in a layout (B in float32, or bfloat16 widened in the packing),
/// the median GFLOP/s over the repetitions, and the median of the FMA-peak trials taken between
/// those repetitions.
/// </summary>
public readonly record struct GemmMeasurement(int M, int N, int K, GemmLayout Layout, bool BFloat16B, double Gflops, double MedianSeconds, double PeakGflops)
{
    public double Efficiency => Gflops / PeakGflops;
}

/// <summary>
/// Times <see cref="Gemm.Compute"/> (or <see cref="Gemm.ComputeBFloat16B"/>, B rounded to bfloat16) on given shapes: random operands (uniform ±1), one untimed
/// warm-up call, then the median of <c>repeat</c> timed calls. GFLOP/s = 2·m·n·k / median time.
/// Each timed call is preceded by a ~20 ms FMA-peak trial; the median trial is the peak the
/// efficiency of this shape is measured against, so that both sides of the ratio are medians
/// taken under the same conditions (the machine is shared; its clock and load move).
/// </summary>
public static unsafe class GemmBenchmark
{
    /// <summary>
    /// The 1024³ reference point and the t5-small (flan, v1.1: d_model 512, d_ff 1024, vocabulary
    /// 32128) shapes m×n×k of a batch of 1536 tokens (512 for the LM head).
    /// </summary>
    public static readonly (int M, int N, int K)[] DefaultShapes =
    [
        (1024, 1024, 1024),
        (1536, 512, 512),   // attention projections q, k, v, o: 512 → 512
        (1536, 1024, 512),  // feed-forward wi_0, wi_1: 512 → 1024
        (1536, 512, 1024),  // feed-forward wo: 1024 → 512
        (512, 32128, 512),  // LM head: 512 → 32128
    ];

    public static GemmMeasurement Measure(int m, int n, int k, GemmLayout layout, int repeat, FmaPeak peak, bool bfloat16B = false)
    {
        if (repeat < 1) throw new ArgumentOutOfRangeException(nameof(repeat));
        // Operands stored as the layout says: A [m,k] or [k,m], B [k,n] or [n,k] (float32 or bfloat16 bits).
        long bCount = (long)k * n;
        float* a = Allocate((long)m * k), b = bfloat16B ? null : Allocate(bCount), c = Allocate((long)m * n);
        ushort* b16 = bfloat16B ? (ushort*)NativeMemory.AlignedAlloc((nuint)(bCount * sizeof(ushort)), 64) : null;
        try
        {
            var rng = new Random(42);
            Fill(a, (long)m * k, rng);
            if (bfloat16B) FillBFloat16(b16, bCount, rng);
            else Fill(b, bCount, rng);
            int lda = layout == GemmLayout.TN ? m : k;
            int ldb = layout == GemmLayout.NT ? k : n;
            Compute(layout, m, n, k, a, lda, b, b16, ldb, c);
            var seconds = new double[repeat];
            var peaks = new double[repeat];
            for (int r = 0; r < repeat; r++)
            {
                peaks[r] = peak.Trial();
                long t0 = Stopwatch.GetTimestamp();
                Compute(layout, m, n, k, a, lda, b, b16, ldb, c);
                seconds[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            double median = Median(seconds);
            return new GemmMeasurement(m, n, k, layout, bfloat16B, 2.0 * m * n * k / median / 1e9, median, Median(peaks));
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(b16);
            NativeMemory.AlignedFree(c);
        }
    }

    private static void Compute(GemmLayout layout, int m, int n, int k, float* a, int lda, float* b, ushort* b16, int ldb, float* c)
    {
        if (b16 != null) Gemm.ComputeBFloat16B(layout, m, n, k, a, lda, b16, ldb, c, n, accumulate: false);
        else Gemm.Compute(layout, m, n, k, a, lda, b, ldb, c, n, accumulate: false);
    }

    private static double Median(double[] x)
    {
        Array.Sort(x);
        int n = x.Length;
        return n % 2 == 1 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
    }

    private static float* Allocate(long count) => (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);

    private static void Fill(float* x, long count, Random rng)
    {
        for (long i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
    }

    // The same values as Fill, rounded to bfloat16.
    private static void FillBFloat16(ushort* x, long count, Random rng)
    {
        for (long i = 0; i < count; i++) x[i] = BFloat16Conversion.FromSingle((float)(rng.NextDouble() * 2 - 1));
    }
}
