using System.Buffers;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Optim;

/// <summary>
/// Sums in double whose result depends only on the data: never on the thread count or the SIMD
/// width. Element i of a run goes to accumulator i mod 16 (one 16-lane pattern that a Vector512,
/// two Vector256 or 16 scalars all reproduce); the 16 accumulators are then added in lane order.
/// Long inputs are cut into fixed <see cref="Elementwise.ChunkSize"/> chunks summed in parallel,
/// and the chunk sums are added in chunk order.
/// </summary>
internal static unsafe class DeterministicSum
{
    private const int Accumulators = 16;

    /// <summary>Σ xᵢ² with exact float products (a float square fits in a double) and double sums.</summary>
    public static double SumOfSquares(WorkerPool pool, float* x, int n)
    {
        int chunks = Elementwise.ChunkCount(n);
        if (chunks <= 1) return SumOfSquares(x, n);
        double[] partial = ArrayPool<double>.Shared.Rent(chunks);
        try
        {
            fixed (double* p = partial)
            {
                var job = new SquaresJob { X = x, N = n, Partial = p };
                pool.For(chunks, ref job, minPerThread: 2);
                double total = 0;
                for (int c = 0; c < chunks; c++) total += p[c];
                return total;
            }
        }
        finally { ArrayPool<double>.Shared.Return(partial); }
    }

    private struct SquaresJob : IParallelJob
    {
        public float* X;
        public int N;
        public double* Partial;

        public void Execute(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                int from = c * Elementwise.ChunkSize;
                int count = Math.Min(Elementwise.ChunkSize, N - from);
                Partial[c] = SumOfSquares(X + from, count);
            }
        }
    }

    /// <summary>Σ xᵢ² on the calling thread (see the type's summary for the order).</summary>
    public static double SumOfSquares(float* x, int n)
    {
        double* acc = stackalloc double[Accumulators];
        new Span<double>(acc, Accumulators).Clear();
        int i = 0;
        var level = KernelDispatch.Level;
        if (level == SimdLevel.Vector512)
        {
            Vector512<double> a0 = default, a1 = default;
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(x + i));
                a0 += lo * lo;
                a1 += hi * hi;
            }
            a0.Store(acc);
            a1.Store(acc + 8);
        }
        else if (level == SimdLevel.Vector256)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 16 <= n; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Load(x + i));
                var (l1, h1) = Vector256.Widen(Vector256.Load(x + i + 8));
                a0 += l0 * l0;
                a1 += h0 * h0;
                a2 += l1 * l1;
                a3 += h1 * h1;
            }
            a0.Store(acc);
            a1.Store(acc + 4);
            a2.Store(acc + 8);
            a3.Store(acc + 12);
        }
        for (; i < n; i++)
        {
            double v = x[i];
            acc[i & (Accumulators - 1)] += v * v;
        }
        return AddInLaneOrder(acc);
    }

    /// <summary>
    /// Σ (xᵢ² + eps) where each term is rounded to float first, as <c>grad**2 + eps</c> is in
    /// PyTorch float32, and the terms are summed in double.
    /// </summary>
    public static double SumOfFloatSquaresPlus(float* x, int n, float eps)
    {
        double* acc = stackalloc double[Accumulators];
        new Span<double>(acc, Accumulators).Clear();
        int i = 0;
        var level = KernelDispatch.Level;
        if (level == SimdLevel.Vector512)
        {
            var e = Vector512.Create(eps);
            Vector512<double> a0 = default, a1 = default;
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Load(x + i);
                var (lo, hi) = Vector512.Widen(v * v + e);
                a0 += lo;
                a1 += hi;
            }
            a0.Store(acc);
            a1.Store(acc + 8);
        }
        else if (level == SimdLevel.Vector256)
        {
            var e = Vector256.Create(eps);
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 16 <= n; i += 16)
            {
                var v0 = Vector256.Load(x + i);
                var v1 = Vector256.Load(x + i + 8);
                var (l0, h0) = Vector256.Widen(v0 * v0 + e);
                var (l1, h1) = Vector256.Widen(v1 * v1 + e);
                a0 += l0;
                a1 += h0;
                a2 += l1;
                a3 += h1;
            }
            a0.Store(acc);
            a1.Store(acc + 4);
            a2.Store(acc + 8);
            a3.Store(acc + 12);
        }
        for (; i < n; i++)
        {
            float sq = x[i] * x[i];
            float term = sq + eps;
            acc[i & (Accumulators - 1)] += term;
        }
        return AddInLaneOrder(acc);
    }

    /// <summary>
    /// acc[j] += (double)(x[j]² + eps) for j in [0, n): one row's contribution to per-column sums
    /// (each column is summed sequentially over rows, so the order never depends on the width).
    /// </summary>
    public static void AccumulateFloatSquaresPlus(float* x, double* acc, int n, float eps)
    {
        int j = 0;
        var level = KernelDispatch.Level;
        if (level == SimdLevel.Vector512)
        {
            var e = Vector512.Create(eps);
            for (; j + 16 <= n; j += 16)
            {
                var v = Vector512.Load(x + j);
                var (lo, hi) = Vector512.Widen(v * v + e);
                (Vector512.Load(acc + j) + lo).Store(acc + j);
                (Vector512.Load(acc + j + 8) + hi).Store(acc + j + 8);
            }
        }
        else if (level == SimdLevel.Vector256)
        {
            var e = Vector256.Create(eps);
            for (; j + 8 <= n; j += 8)
            {
                var v = Vector256.Load(x + j);
                var (lo, hi) = Vector256.Widen(v * v + e);
                (Vector256.Load(acc + j) + lo).Store(acc + j);
                (Vector256.Load(acc + j + 4) + hi).Store(acc + j + 4);
            }
        }
        for (; j < n; j++)
        {
            float sq = x[j] * x[j];
            float term = sq + eps;
            acc[j] += term;
        }
    }

    /// <summary>Σ xᵢ in double, sequentially (short vectors only).</summary>
    public static double Sum(float* x, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[i];
        return s;
    }

    private static double AddInLaneOrder(double* acc)
    {
        double s = 0;
        for (int k = 0; k < Accumulators; k++) s += acc[k];
        return s;
    }
}
