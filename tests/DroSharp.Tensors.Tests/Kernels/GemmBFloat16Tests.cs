using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.ComputeBFloat16B"/> against the float32 GEMM on the widened B: bit-identical in
/// every layout, at odd sizes, with padded leading dimensions (B's padding is a bfloat16 NaN, so
/// reading it shows; C's padding is a sentinel that must survive), accumulate on and off, at every
/// SIMD level and thread count; plus a check against the double-precision reference, so that the
/// test also fails if both paths went wrong together.
/// </summary>
public unsafe class GemmBFloat16Tests
{
    private static readonly GemmLayout[] Layouts = [GemmLayout.NN, GemmLayout.NT, GemmLayout.TN];
    private const float Sentinel = 1234.5f;

    private sealed class Case
    {
        public readonly GemmLayout Layout;
        public readonly int M, N, K, Lda, Ldb, Ldc;
        public readonly float[] A, BWide, C0;
        public readonly ushort[] B;

        public Case(GemmLayout layout, int m, int n, int k, int pad, int seed)
        {
            Layout = layout; M = m; N = n; K = k;
            var rng = new Random(seed);
            int aRows = layout == GemmLayout.TN ? k : m, aCols = layout == GemmLayout.TN ? m : k;
            int bRows = layout == GemmLayout.NT ? n : k, bCols = layout == GemmLayout.NT ? k : n;
            Lda = aCols + pad; Ldb = bCols + pad; Ldc = n + pad;
            A = Fill(rng, aRows, aCols, Lda, float.NaN);
            var b = Fill(rng, bRows, bCols, Ldb, float.NaN);
            B = new ushort[b.Length];
            BFloat16Conversion.Narrow(b, B);
            BWide = new float[B.Length];
            BFloat16Conversion.Widen(B, BWide);
            C0 = Fill(rng, m, n, Ldc, Sentinel);
        }

        private static float[] Fill(Random rng, int rows, int cols, int ld, float padding)
        {
            var x = new float[Math.Max(1, rows * ld)];
            for (int i = 0; i < x.Length; i++)
                x[i] = i % ld >= cols ? padding : (float)(0.05 + 0.95 * rng.NextDouble()) * (rng.Next(2) == 0 ? -1 : 1);
            return x;
        }

        public float[] RunFloat32(bool accumulate, SimdLevel level, int threads)
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, b = BWide, cp = c)
                Gemm.Compute(Layout, M, N, K, a, Lda, b, Ldb, cp, Ldc, accumulate, level, threads);
            return c;
        }

        public float[] RunBFloat16(bool accumulate, SimdLevel level, int threads)
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, cp = c)
            fixed (ushort* b = B)
                Gemm.ComputeBFloat16B(Layout, M, N, K, a, Lda, b, Ldb, cp, Ldc, accumulate, level, threads);
            return c;
        }

        public float[] Reference(bool accumulate)
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, b = BWide, cp = c)
                GemmReference.Compute(Layout, M, N, K, a, Lda, b, Ldb, cp, Ldc, accumulate);
            return c;
        }

        public override string ToString() => $"{Layout} m={M} n={N} k={K} lda={Lda} ldb={Ldb} ldc={Ldc}";
    }

    private static void AssertBitIdentical(float[] want, float[] got, string what)
    {
        for (int i = 0; i < want.Length; i++)
            if (BitConverter.SingleToInt32Bits(want[i]) != BitConverter.SingleToInt32Bits(got[i]))
                Assert.Fail($"{what}: C[{i}] = {got[i]:G9}, float32 GEMM on the widened B {want[i]:G9}");
    }

    public static IEnumerable<object[]> Sizes() =>
    [
        [1, 1, 1], [7, 7, 7], [33, 33, 33], [129, 129, 129],
        [1, 33, 7], [33, 1, 129], [7, 129, 1], [12, 32, 5], [13, 33, 257],
        [257, 130, 67], [29, 45, 19], [37, 1100, 300], [400, 40, 30],
    ];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void BitIdenticalToFloat32GemmOnTheWidenedMatrix(int m, int n, int k)
    {
        foreach (var layout in Layouts)
        foreach (int pad in new[] { 0, 3 })
        {
            var cs = new Case(layout, m, n, k, pad, seed: m * 7919 + n * 104729 + k * 31 + pad);
            foreach (bool accumulate in new[] { false, true })
            {
                var reference = cs.Reference(accumulate);
                foreach (var level in TestUtil.Levels)
                foreach (int threads in new[] { WorkerPool.Default.Threads, 1 }.Distinct())
                {
                    if (level > KernelDispatch.Hardware) continue;
                    string what = $"{cs} accumulate={accumulate} {level} threads={threads}";
                    var got = cs.RunBFloat16(accumulate, level, threads);
                    AssertBitIdentical(cs.RunFloat32(accumulate, level, threads), got, what);
                    GemmTestUtil.AssertOutputClose(reference, got, cs.M, cs.N, cs.Ldc, Sentinel, tolerance: 2e-6 * cs.K + 1e-6, what); // |a|, |b| < 1
                }
            }
        }
    }

    [Fact]
    public void BitIdenticalWithSeveralKAndColumnBlocks()
    {
        // k = 700: three k blocks of 234 (not a multiple of 8); n = 1090: two column blocks on one thread.
        foreach (var layout in Layouts)
        {
            var cs = new Case(layout, 301, 1090, 700, pad: 1, seed: 99);
            foreach (int threads in new[] { WorkerPool.Default.Threads, 1 }.Distinct())
                AssertBitIdentical(cs.RunFloat32(true, KernelDispatch.Level, threads), cs.RunBFloat16(true, KernelDispatch.Level, threads), $"{cs} threads={threads}");
        }
    }

    [Fact]
    public void PublicEntryPointFollowsKernelDispatchOverride()
    {
        foreach (var layout in Layouts)
        {
            var cs = new Case(layout, 29, 45, 19, pad: 2, seed: 5);
            foreach (var level in TestUtil.Levels)
            {
                if (level > KernelDispatch.Hardware) continue;
                using var _ = KernelDispatch.Override(level);
                var c = (float[])cs.C0.Clone();
                fixed (float* a = cs.A, cp = c)
                fixed (ushort* b = cs.B)
                    Gemm.ComputeBFloat16B(cs.Layout, cs.M, cs.N, cs.K, a, cs.Lda, b, cs.Ldb, cp, cs.Ldc, accumulate: true);
                AssertBitIdentical(cs.RunFloat32(true, level, WorkerPool.Default.Threads), c, $"{cs} override {level}");
            }
        }
    }

    [Fact]
    public void ZeroKClearsOrKeepsCAndShortLeadingDimensionsAreRejected()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        float dummy = 1;
        ushort bits = 0x3F80;
        fixed (float* cp = c)
        {
            Gemm.ComputeBFloat16B(GemmLayout.NN, 2, 2, 0, &dummy, 0, &bits, 2, cp, 3, accumulate: true);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, c);
            Gemm.ComputeBFloat16B(GemmLayout.NN, 2, 2, 0, &dummy, 0, &bits, 2, cp, 3, accumulate: false);
        }
        Assert.Equal(new float[] { 0, 0, 3, 0, 0, 6 }, c);

        var buffer = new float[16];
        var half = new ushort[16];
        var e = Assert.IsType<ArgumentOutOfRangeException>(Record.Exception(() =>
        {
            fixed (float* x = buffer)
            fixed (ushort* h = half)
                Gemm.ComputeBFloat16B(GemmLayout.NT, 2, 2, 3, x, 3, h, 2, x, 2, false);
        }));
        Assert.Contains("ldb=2", e.Message);
    }
}
