using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Single-precision matrix multiply: C = op(A)·op(B), or C += op(A)·op(B) with <c>accumulate</c>.
/// Leading dimensions are row strides in elements (lda ≥ the stored row length).
/// Packed panels and a register-blocked micro-kernel chosen by <see cref="KernelDispatch.Level"/>
/// (AVX-512 12×32, AVX2 6×16 or scalar 4×4; see <see cref="GemmDriver"/>), on the worker pool.
/// Results are bit-identical from run to run and independent of the thread count.
/// <see cref="ComputeBFloat16B"/> takes B as bfloat16 bits (frozen weights) and widens it in the packing.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>C[m,n] (+)= op(A)·op(B) for one matrix.</summary>
    public static void Compute(GemmLayout layout, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Compute(layout, m, n, k, a, lda, b, ldb, c, ldc, accumulate, KernelDispatch.Level, WorkerPool.Default.Threads);
    }

    /// <summary><see cref="Compute(GemmLayout,int,int,int,float*,int,float*,int,float*,int,bool)"/> with an explicit kernel level and at most <paramref name="threads"/> threads (tests, benchmarks).</summary>
    internal static void Compute(GemmLayout layout, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, SimdLevel level, int threads)
    {
        Validate(layout, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) ClearC(m, n, c, ldc);
            return;
        }
        level = (SimdLevel)Math.Min((int)level, (int)KernelDispatch.Hardware);
        var pr = new GemmProblem(layout, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        Run(pr, level, Math.Clamp(threads, 1, WorkerPool.Default.Threads));
    }

    /// <summary>
    /// C[m,n] (+)= op(A)·op(B) with B stored as bfloat16 bits (a frozen weight: see
    /// <see cref="BFloat16Matrix"/>), ldb in elements. B is widened to float32 while it is packed, so
    /// the result is bit-identical to <see cref="Compute(GemmLayout,int,int,int,float*,int,float*,int,float*,int,bool)"/>
    /// on the widened matrix. Linear with W [out,in] in bfloat16: forward y = x·Wᵀ is
    /// <see cref="GemmLayout.NT"/>, the input gradient dx = dy·W is <see cref="GemmLayout.NN"/>
    /// (<see cref="GemmLayout.TN"/> works too).
    /// </summary>
    public static void ComputeBFloat16B(GemmLayout layout, int m, int n, int k,
        float* a, int lda, ushort* b, int ldb, float* c, int ldc, bool accumulate)
    {
        ComputeBFloat16B(layout, m, n, k, a, lda, b, ldb, c, ldc, accumulate, KernelDispatch.Level, WorkerPool.Default.Threads);
    }

    /// <summary><see cref="ComputeBFloat16B(GemmLayout,int,int,int,float*,int,ushort*,int,float*,int,bool)"/> with an explicit kernel level and at most <paramref name="threads"/> threads (tests, benchmarks).</summary>
    internal static void ComputeBFloat16B(GemmLayout layout, int m, int n, int k,
        float* a, int lda, ushort* b, int ldb, float* c, int ldc, bool accumulate, SimdLevel level, int threads)
    {
        Validate(layout, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) ClearC(m, n, c, ldc);
            return;
        }
        level = (SimdLevel)Math.Min((int)level, (int)KernelDispatch.Hardware);
        var pr = new GemmProblem(layout, m, n, k, a, lda, null, ldb, c, ldc, accumulate, bBFloat16: b);
        Run(pr, level, Math.Clamp(threads, 1, WorkerPool.Default.Threads));
    }

    /// <summary>
    /// <paramref name="batch"/> independent products; matrix i of each operand starts at
    /// base + i·stride (strides in elements). Used by attention (one product per batch·head).
    /// Small matrices are spread over the threads one whole product each; large ones are computed
    /// one after the other, each on all threads.
    /// </summary>
    public static void ComputeBatched(GemmLayout layout, int batch, int m, int n, int k,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float* c, int ldc, long strideC, bool accumulate)
    {
        ComputeBatched(layout, batch, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, accumulate,
            KernelDispatch.Level, WorkerPool.Default.Threads);
    }

    /// <summary><see cref="ComputeBatched(GemmLayout,int,int,int,int,float*,int,long,float*,int,long,float*,int,long,bool)"/> with an explicit kernel level and thread count (tests, benchmarks).</summary>
    internal static void ComputeBatched(GemmLayout layout, int batch, int m, int n, int k,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float* c, int ldc, long strideC, bool accumulate,
        SimdLevel level, int threads)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), $"negative GEMM batch {batch}");
        Validate(layout, m, n, k, lda, ldb, ldc);
        if (batch == 0 || m == 0 || n == 0) return;
        level = (SimdLevel)Math.Min((int)level, (int)KernelDispatch.Hardware);
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < batch; i++) ClearC(m, n, c + i * strideC, ldc);
            return;
        }
        threads = Math.Clamp(threads, 1, WorkerPool.Default.Threads);
        long work = (long)m * n * k;
        // Whole products per thread unless there are few large ones (then a product's own split balances better).
        bool acrossBatch = batch >= threads && (batch % threads == 0 || work < 16 * GemmDriver.MinWorkPerThread);
        if (batch > 1 && acrossBatch)
        {
            var job = new BatchJob(layout, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, accumulate, level);
            int minPerThread = (int)Math.Clamp(GemmDriver.MinWorkPerThread / work, 1, batch);
            if (threads == 1) job.Execute(0, batch);
            else WorkerPool.Default.For(batch, ref job, minPerThread);
            return;
        }
        for (int i = 0; i < batch; i++)
        {
            var pr = new GemmProblem(layout, m, n, k, a + i * strideA, lda, b + i * strideB, ldb, c + i * strideC, ldc, accumulate);
            Run(pr, level, threads);
        }
    }

    private readonly struct BatchJob(GemmLayout layout, int m, int n, int k,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float* c, int ldc, long strideC,
        bool accumulate, SimdLevel level) : IParallelJob
    {
        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                var pr = new GemmProblem(layout, m, n, k, a + i * strideA, lda, b + i * strideB, ldb, c + i * strideC, ldc, accumulate);
                Run(pr, level, 1);
            }
        }
    }

    private static void Run(in GemmProblem pr, SimdLevel level, int threads)
    {
        switch (level)
        {
            case SimdLevel.Vector512: GemmDriver.Run<GemmMicroKernel512>(pr, threads); break;
            case SimdLevel.Vector256: GemmDriver.Run<GemmMicroKernel256>(pr, threads); break;
            default: GemmDriver.Run<GemmMicroKernelScalar>(pr, threads); break;
        }
    }

    private static void ClearC(int m, int n, float* c, int ldc)
    {
        for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
    }

    private static void Validate(GemmLayout layout, int m, int n, int k, int lda, int ldb, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative GEMM size m={m} n={n} k={k}");
        int aRow = layout == GemmLayout.TN ? m : k, bRow = layout == GemmLayout.NT ? k : n;
        if (lda < aRow || ldb < bRow || ldc < n)
            throw new ArgumentOutOfRangeException(nameof(lda),
                $"GEMM {layout} m={m} n={n} k={k}: leading dimensions lda={lda} ldb={ldb} ldc={ldc} shorter than the rows ({aRow}, {bRow}, {n})");
    }
}
