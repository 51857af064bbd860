using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Tests.Kernels;

/// <summary>
/// The fast GEMM against <see cref="GemmReference"/> on random inputs (never zeros): odd sizes,
/// every layout, accumulate on and off, padded leading dimensions whose padding is NaN (so reading
/// it shows) and must stay untouched in C, each micro-kernel, the batched form, determinism.
/// </summary>
public unsafe class GemmTests
{
    private static readonly GemmLayout[] Layouts = [GemmLayout.NN, GemmLayout.NT, GemmLayout.TN];
    private static readonly SimdLevel[] Levels = [SimdLevel.Vector512, SimdLevel.Vector256, SimdLevel.Scalar];
    private const float Sentinel = 1234.5f;

    /// <summary>One problem: operands with padded rows, C pre-filled (random inside, sentinel in the padding).</summary>
    private sealed class Case
    {
        public readonly GemmLayout Layout;
        public readonly int M, N, K, Lda, Ldb, Ldc;
        public readonly float[] A, B, C0;
        public readonly float MaxA, MaxB;

        public Case(GemmLayout layout, int m, int n, int k, int pad, int seed, int batch = 1)
        {
            Layout = layout; M = m; N = n; K = k;
            var rng = new Random(seed);
            int aRows = layout == GemmLayout.TN ? k : m, aCols = layout == GemmLayout.TN ? m : k;
            int bRows = layout == GemmLayout.NT ? n : k, bCols = layout == GemmLayout.NT ? k : n;
            Lda = aCols + pad; Ldb = bCols + pad; Ldc = n + pad;
            A = Fill(rng, batch, aRows, aCols, Lda, float.NaN, out MaxA);
            B = Fill(rng, batch, bRows, bCols, Ldb, float.NaN, out MaxB);
            C0 = Fill(rng, batch, m, n, Ldc, Sentinel, out _);
        }

        public long StrideA => (long)(Layout == GemmLayout.TN ? K : M) * Lda;
        public long StrideB => (long)(Layout == GemmLayout.NT ? N : K) * Ldb;
        public long StrideC => (long)M * Ldc;

        private static float[] Fill(Random rng, int batch, int rows, int cols, int ld, float padding, out float max)
        {
            var x = new float[Math.Max(1, batch * rows * ld)];
            max = 0;
            for (int i = 0; i < x.Length; i++)
            {
                if (i % ld >= cols) { x[i] = padding; continue; }
                // Uniform in ±[0.05, 1): never zero.
                float v = (float)(0.05 + 0.95 * rng.NextDouble()) * (rng.Next(2) == 0 ? -1 : 1);
                x[i] = v;
                max = Math.Max(max, Math.Abs(v));
            }
            return x;
        }

        public float[] Reference(bool accumulate, int batch = 1)
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, b = B, cp = c)
                for (int i = 0; i < batch; i++)
                    GemmReference.Compute(Layout, M, N, K, a + i * StrideA, Lda, b + i * StrideB, Ldb, cp + i * StrideC, Ldc, accumulate);
            return c;
        }

        public float[] Run(bool accumulate, SimdLevel level, int threads)
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, b = B, cp = c)
                Gemm.Compute(Layout, M, N, K, a, Lda, b, Ldb, cp, Ldc, accumulate, level, threads);
            return c;
        }

        public float[] RunBatched(int batch, bool accumulate, SimdLevel level, int threads)
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, b = B, cp = c)
                Gemm.ComputeBatched(Layout, batch, M, N, K, a, Lda, StrideA, b, Ldb, StrideB, cp, Ldc, StrideC, accumulate, level, threads);
            return c;
        }

        /// <summary>|got − want| ≤ 2e-6·k·max|a|·max|b| (+ the rounding of C's old value); padding unchanged.</summary>
        public void AssertMatches(float[] want, float[] got, string what) =>
            GemmTestUtil.AssertOutputClose(want, got, M, N, Ldc, Sentinel, tolerance: 2e-6 * K * MaxA * MaxB + 1e-6, what);

        public override string ToString() => $"{Layout} m={M} n={N} k={K} lda={Lda} ldb={Ldb} ldc={Ldc}";
    }

    public static IEnumerable<object[]> Sizes() =>
    [
        [1, 1, 1], [7, 7, 7], [33, 33, 33], [129, 129, 129],
        [1, 33, 7], [33, 1, 129], [7, 129, 1], [12, 32, 5], [13, 33, 257],
        [257, 130, 67], [64, 64, 64], [128, 128, 8], [37, 1100, 300],
        [400, 40, 30], [700, 50, 40], // several row blocks (MbMax) per thread
    ];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MatchesReferenceForEveryLayoutLevelAndMode(int m, int n, int k)
    {
        foreach (var layout in Layouts)
        foreach (int pad in new[] { 0, 3 })
        {
            var cs = new Case(layout, m, n, k, pad, seed: m * 7919 + n * 104729 + k * 31 + pad);
            foreach (bool accumulate in new[] { false, true })
            {
                var want = cs.Reference(accumulate);
                foreach (var level in Levels)
                foreach (int threads in new[] { WorkerPool.Default.Threads, 1 }.Distinct())
                {
                    // One thread also takes the paths a wide slice takes: several column blocks, A kept packed.
                    if (level > KernelDispatch.Hardware) continue;
                    var got = cs.Run(accumulate, level, threads);
                    cs.AssertMatches(want, got, $"{cs} accumulate={accumulate} {level} threads={threads}");
                }
            }
        }
    }

    [Fact]
    public void PublicEntryPointFollowsKernelDispatchOverride()
    {
        var cs = new Case(GemmLayout.NT, 29, 45, 19, pad: 2, seed: 5);
        var want = cs.Reference(accumulate: true);
        foreach (var level in Levels)
        {
            using var _ = KernelDispatch.Override(level);
            var c = (float[])cs.C0.Clone();
            fixed (float* a = cs.A, b = cs.B, cp = c)
                Gemm.Compute(cs.Layout, cs.M, cs.N, cs.K, a, cs.Lda, b, cs.Ldb, cp, cs.Ldc, accumulate: true);
            cs.AssertMatches(want, c, $"{cs} override {level}");
        }
    }

    [Theory]
    [InlineData(6, 64, 64, 64)]    // across the batch, one product per thread
    [InlineData(5, 33, 7, 129)]
    [InlineData(3, 200, 190, 70)]  // few large products: one after the other, each threaded
    [InlineData(1, 17, 19, 23)]
    public void BatchedMatchesReference(int batch, int m, int n, int k)
    {
        foreach (var layout in Layouts)
        {
            var cs = new Case(layout, m, n, k, pad: 1, seed: batch + m + n + k, batch: batch);
            foreach (bool accumulate in new[] { false, true })
            {
                var want = cs.Reference(accumulate, batch);
                foreach (var level in Levels)
                foreach (int threads in new[] { WorkerPool.Default.Threads, 1 }.Distinct())
                {
                    if (level > KernelDispatch.Hardware) continue;
                    var got = cs.RunBatched(batch, accumulate, level, threads);
                    cs.AssertMatches(want, got, $"batch {batch} {cs} accumulate={accumulate} {level} threads={threads}");
                }
            }
        }
    }

    [Fact]
    public void BatchedPublicEntryPointMatchesReference()
    {
        var cs = new Case(GemmLayout.NN, 16, 24, 8, pad: 0, seed: 77, batch: 8);
        var want = cs.Reference(false, 8);
        var c = (float[])cs.C0.Clone();
        fixed (float* a = cs.A, b = cs.B, cp = c)
            Gemm.ComputeBatched(cs.Layout, 8, cs.M, cs.N, cs.K, a, cs.Lda, cs.StrideA, b, cs.Ldb, cs.StrideB, cp, cs.Ldc, cs.StrideC, false);
        cs.AssertMatches(want, c, "public batched");
    }

    [Fact]
    public void ResultIsBitIdenticalRunToRunAndAcrossThreadCounts()
    {
        foreach (var layout in Layouts)
        {
            // Several k blocks, several column blocks, edge tiles in both directions.
            var cs = new Case(layout, 301, 1090, 700, pad: 0, seed: 99);
            var first = cs.Run(true, KernelDispatch.Level, WorkerPool.Default.Threads);
            var second = cs.Run(true, KernelDispatch.Level, WorkerPool.Default.Threads);
            var single = cs.Run(true, KernelDispatch.Level, 1);
            for (int i = 0; i < first.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(first[i]) == BitConverter.SingleToInt32Bits(second[i]), $"{layout}: run-to-run difference at {i}");
                Assert.True(BitConverter.SingleToInt32Bits(first[i]) == BitConverter.SingleToInt32Bits(single[i]), $"{layout}: thread-count difference at {i}");
            }
        }
    }

    [Fact]
    public void ZeroKClearsOrKeepsC()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        fixed (float* cp = c)
        {
            float dummy = 1;
            Gemm.Compute(GemmLayout.NN, 2, 2, 0, &dummy, 0, &dummy, 2, cp, 3, accumulate: true);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, c);
            Gemm.Compute(GemmLayout.NN, 2, 2, 0, &dummy, 0, &dummy, 2, cp, 3, accumulate: false);
        }
        Assert.Equal(new float[] { 0, 0, 3, 0, 0, 6 }, c);
    }

    [Fact]
    public void RejectsNegativeSizesAndShortLeadingDimensions()
    {
        var buffer = new float[16];
        var e0 = Record.Exception(() => { fixed (float* x = buffer) Gemm.Compute(GemmLayout.NN, -1, 1, 1, x, 1, x, 1, x, 1, false); });
        Assert.IsType<ArgumentOutOfRangeException>(e0);
        var e = Assert.IsType<ArgumentOutOfRangeException>(
            Record.Exception(() => { fixed (float* x = buffer) Gemm.Compute(GemmLayout.NT, 2, 2, 3, x, 2, x, 3, x, 2, false); }));
        Assert.Contains("lda=2", e.Message);
    }

    [Theory]
    [InlineData(2, 1536, 512, 128, 16)]
    [InlineData(2, 512, 32128, 16, 1004)]
    [InlineData(2, 1024, 1024, 86, 32)]
    [InlineData(4, 1024, 1024, 86, 32)]
    public void ThreadGridUsesAllThreadsAndSplitsTheCheaperSide(int t, int m, int n, int mPanels, int nPanels)
    {
        var (tm, tn) = GemmDriver.ChooseGrid(t, m, n, mPanels, nPanels);
        Assert.Equal(t, tm * tn);
        if (m > n) Assert.True(tm >= tn);
        if (n > m) Assert.True(tn >= tm);
    }
}
