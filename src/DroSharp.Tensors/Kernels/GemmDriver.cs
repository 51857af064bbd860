using System.Runtime.CompilerServices;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// The blocked GEMM around a micro-kernel (Goto/BLIS loop nest, with the roles of A and B swapped
/// because C is row-major and vectors run along n):
/// <code>
/// for each column block jb of NB ≤ NbMax columns           (per thread)
///   for each k block pb of KC ≤ KcMax                      (fixed by k alone)
///     pack B[pb.., jb..] → [NB/NR][KC, NR]                 (L2-resident: 256·1024·4 B = 1 MB; a bfloat16 B is widened here)
///     for each row block ib0 of MB ≤ MbMax rows:
///       pack A[ib0.., pb..] → [MB/MR][KC, MR]               (L2; one micro-panel ≤ 16 KB in L1 at a time)
///       for each MR-row panel ib, for each NR-column panel jr:
///         C[ib, jr] (+)= micro-kernel(A panel, B panel)
/// </code>
/// Threads get disjoint rectangles of C (a static split of the row or column panels), and each
/// C element is reduced over k in the same order — k blocks ascending, p ascending within — no
/// matter how C is split, so the result does not depend on timing or on the thread count.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Largest k block: an A micro-panel of KcMax·MR floats sits in L1 beside the streamed B panel.</summary>
    public const int KcMax = 256;

    /// <summary>Largest column block: the packed B block [KcMax, NbMax] (1 MB) sits in the 2 MB L2.</summary>
    public const int NbMax = 1024;

    /// <summary>
    /// Rows of A packed at once ([KcMax, MbMax], 384 KB, beside the 1 MB B block in L2): in TN each
    /// row of the stored Aᵀ is then read 1.5 KB at a time rather than one micro-panel's 48 bytes,
    /// which the prefetchers follow (measured: 96 and 768 rows were slower, 192 slower in TN).
    /// </summary>
    public const int MbMax = 384;

    /// <summary>Fewest multiply-adds worth waking another thread for (≈ 5 µs of one core at its peak).</summary>
    public const long MinWorkPerThread = 1L << 19;

    /// <summary>Computes the whole problem on up to <paramref name="threads"/> threads of the default pool.</summary>
    public static void Run<TK>(in GemmProblem pr, int threads) where TK : struct, IGemmMicroKernel
    {
        int mPanels = (pr.M + TK.MR - 1) / TK.MR, nPanels = (pr.N + TK.NR - 1) / TK.NR;
        long useful = Math.Max(1, pr.Work / MinWorkPerThread);
        int t = (int)Math.Min(Math.Min(threads, useful), (long)mPanels * nPanels);
        if (t <= 1)
        {
            RunBlock<TK>(pr, 0, pr.M, 0, pr.N);
            return;
        }
        var (tm, tn) = ChooseGrid(t, pr.M, pr.N, mPanels, nPanels);
        var job = new SplitJob<TK>(pr, tm, tn, mPanels, nPanels);
        WorkerPool.Default.For(tm * tn, ref job);
    }

    /// <summary>
    /// A tm×tn grid of thread rectangles with tm·tn ≤ t. Splitting rows makes every thread pack all
    /// of B (cost ∝ n per row of A), splitting columns makes every thread pack all of A (∝ m), so
    /// the grid minimises tm·n + tn·m among those that use the most threads.
    /// </summary>
    internal static (int Tm, int Tn) ChooseGrid(int t, int m, int n, int mPanels, int nPanels)
    {
        for (; t > 1; t--)
        {
            (int, int) best = (0, 0);
            long bestCost = long.MaxValue;
            for (int tm = 1; tm <= t; tm++)
            {
                if (t % tm != 0) continue;
                int tn = t / tm;
                if (tm > mPanels || tn > nPanels) continue;
                long cost = (long)tm * n + (long)tn * m;
                if (cost < bestCost) { bestCost = cost; best = (tm, tn); }
            }
            if (bestCost != long.MaxValue) return best;
        }
        return (1, 1);
    }

    private readonly struct SplitJob<TK>(GemmProblem pr, int tm, int tn, int mPanels, int nPanels) : IParallelJob
        where TK : struct, IGemmMicroKernel
    {
        public void Execute(int start, int end)
        {
            for (int piece = start; piece < end; piece++)
            {
                int r = piece / tn, s = piece % tn;
                var (pi0, pi1) = WorkerPool.Split(mPanels, r, tm);
                var (pj0, pj1) = WorkerPool.Split(nPanels, s, tn);
                int i0 = pi0 * TK.MR, i1 = Math.Min(pr.M, pi1 * TK.MR);
                int j0 = pj0 * TK.NR, j1 = Math.Min(pr.N, pj1 * TK.NR);
                if (i0 < i1 && j0 < j1) RunBlock<TK>(pr, i0, i1, j0, j1);
            }
        }
    }

    /// <summary>The k block length: the k extent split into equal blocks of at most KcMax (depends on k only).</summary>
    internal static int KcFor(int k)
    {
        int blocks = (k + KcMax - 1) / KcMax;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>C[i0:i1, j0:j1] on the calling thread, with its workspace.</summary>
    // Fully optimised from the first call: tier-0 code of these loops would be many times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlock<TK>(in GemmProblem pr, int i0, int i1, int j0, int j1) where TK : struct, IGemmMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        var ws = GemmWorkspace.Current;
        float* packedA = ws.PackedA, packedB = ws.PackedB, tile = ws.Tile;
        SimdLevel level = TK.Level;
        bool simd = level != SimdLevel.Scalar;
        int kcBlock = KcFor(pr.K);
        int width = j1 - j0;
        int nBlocks = (width + NbMax - 1) / NbMax;
        int nbBlock = ((width + nBlocks - 1) / nBlocks + nr - 1) / nr * nr;
        int rowPanelsAll = (i1 - i0 + mr - 1) / mr;
        int kBlocks = (pr.K + kcBlock - 1) / kcBlock;
        // With several column blocks, A of the whole row range (every k block) is packed once and
        // kept, when it fits: e.g. the LM head, 512 rows against 32128 columns.
        bool keepA = nBlocks > 1 && (long)rowPanelsAll * mr * kcBlock * kBlocks <= GemmWorkspace.PackedACapacity;
        int mbBlock = keepA ? rowPanelsAll * mr : MbMax / mr * mr;
        bool aTransposed = pr.Layout == GemmLayout.TN, bTransposed = pr.Layout == GemmLayout.NT;

        for (int jb = j0; jb < j1; jb += nbBlock)
        {
            int nb = Math.Min(nbBlock, j1 - jb);
            int panels = (nb + nr - 1) / nr;
            for (int pb = 0, kb = 0; pb < pr.K; pb += kcBlock, kb++)
            {
                int kc = Math.Min(kcBlock, pr.K - pb);
                bool add = pr.Accumulate || pb > 0;

                // B block: panel q holds columns jb + q·NR … as [kc, NR] (bfloat16 B widened here).
                if (bTransposed)
                {
                    for (int q = 0; q < panels; q++)
                    {
                        int j = jb + q * nr, w = Math.Min(nr, j1 - j);
                        float* panel = packedB + (nint)q * kc * nr;
                        if (pr.BBFloat16 != null) GemmPacking.TransposeWidening(pr.BBFloat16 + j * pr.Ldb + pb, pr.Ldb, w, kc, panel, nr, level, rowsAfter: jb + nb - j - w);
                        else GemmPacking.Transpose(pr.B + j * pr.Ldb + pb, pr.Ldb, w, kc, panel, nr, simd, rowsAfter: jb + nb - j - w);
                    }
                }
                else if (pr.BBFloat16 != null) GemmPacking.CopyPanelsWidening(pr.BBFloat16 + pb * pr.Ldb + jb, pr.Ldb, kc, nb, packedB, nr, level);
                else GemmPacking.CopyPanels(pr.B + pb * pr.Ldb + jb, pr.Ldb, kc, nb, packedB, nr, simd);

                for (int ib0 = i0; ib0 < i1; ib0 += mbBlock)
                {
                    // A block: panel r holds rows ib0 + r·MR … as [kc, MR].
                    int mb = Math.Min(mbBlock, i1 - ib0);
                    int rowPanels = (mb + mr - 1) / mr;
                    float* aBlock = keepA ? packedA + (nint)kb * rowPanelsAll * mr * kcBlock : packedA;
                    if (!keepA || jb == j0)
                    {
                        if (aTransposed) GemmPacking.CopyPanels(pr.A + pb * pr.Lda + ib0, pr.Lda, kc, mb, aBlock, mr, simd);
                        else
                        {
                            for (int r = 0; r < rowPanels; r++)
                            {
                                int ib = ib0 + r * mr;
                                int h = Math.Min(mr, i1 - ib);
                                GemmPacking.Transpose(pr.A + ib * pr.Lda + pb, pr.Lda, h, kc, aBlock + (nint)r * kc * mr, mr, simd, rowsAfter: ib0 + mb - ib - h);
                            }
                        }
                    }

                    for (int r = 0; r < rowPanels; r++)
                    {
                        int ib = ib0 + r * mr, h = Math.Min(mr, i1 - ib);
                        float* aPanel = aBlock + (nint)r * kc * mr;
                        float* cRow = pr.C + ib * pr.Ldc;
                        for (int q = 0; q < panels; q++)
                        {
                            int j = jb + q * nr, w = Math.Min(nr, j1 - j);
                            float* bPanel = packedB + (nint)q * kc * nr;
                            if (h == mr && w == nr)
                            {
                                TK.Run(kc, aPanel, bPanel, cRow + j, pr.Ldc, add);
                            }
                            else
                            {
                                TK.Run(kc, aPanel, bPanel, tile, nr, false);
                                MergeTile(tile, nr, cRow + j, pr.Ldc, h, w, add);
                            }
                        }
                    }
                }
            }
        }
    }

    // C[0:h, 0:w] (+)= tile[0:h, 0:w]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeTile(float* tile, int ldt, float* c, nint ldc, int h, int w, bool add)
    {
        for (int i = 0; i < h; i++, tile += ldt, c += ldc)
        {
            if (add) for (int j = 0; j < w; j++) c[j] += tile[j];
            else for (int j = 0; j < w; j++) c[j] = tile[j];
        }
    }
}
