using System.Numerics.Tensors;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Sums over the last axis or over everything, and the masked mean over time that pools encoder
/// states. Backward functions accumulate (+=).
/// </summary>
public static unsafe class ReductionKernels
{
    /// <summary>y[r] = Σⱼ x[r, j]. x: [rows, n], y: [rows].</summary>
    public static void SumRows(float* x, float* y, int rows, int n)
    {
        var job = new RowJob { X = x, Y = y, N = n, Backward = false };
        WorkerPool.Default.For(rows, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, n)));
    }

    /// <summary>dx[r, j] += dy[r].</summary>
    public static void SumRowsBackward(float* dy, float* dx, int rows, int n)
    {
        var job = new RowJob { X = dx, Y = dy, N = n, Backward = true };
        WorkerPool.Default.For(rows, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, n)));
    }

    /// <summary>Σ x over n elements: float partial sums of 4096-element chunks added in double, in order.</summary>
    public static double SumAll(float* x, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i += 4096)
            s += TensorPrimitives.Sum(new ReadOnlySpan<float>(x + i, Math.Min(4096, n - i)));
        return s;
    }

    /// <summary>
    /// y[b, :] = Σₜ mask[b, t]·x[b, t, :] / max(1, Σₜ mask[b, t]).
    /// x: [B, T, d], mask: [B, T], y: [B, d].
    /// </summary>
    public static void MaskedMeanPool(float* x, float* mask, float* y, int batch, int time, int d)
    {
        var job = new PoolJob { X = x, Mask = mask, Y = y, T = time, D = d, Backward = false };
        WorkerPool.Default.For(batch, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, time * d)));
    }

    /// <summary>dx[b, t, :] += mask[b, t] / max(1, Σₜ mask[b, t]) · dy[b, :].</summary>
    public static void MaskedMeanPoolBackward(float* dy, float* mask, float* dx, int batch, int time, int d)
    {
        var job = new PoolJob { X = dx, Mask = mask, Y = dy, T = time, D = d, Backward = true };
        WorkerPool.Default.For(batch, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, time * d)));
    }

    private struct RowJob : IParallelJob
    {
        public float* X, Y;
        public int N;
        public bool Backward;

        public readonly void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var row = new Span<float>(X + (long)r * N, N);
                if (Backward) TensorPrimitives.Add(row, Y[r], row);
                else Y[r] = TensorPrimitives.Sum(row);
            }
        }
    }

    private struct PoolJob : IParallelJob
    {
        public float* X, Mask, Y;
        public int T, D;
        public bool Backward;

        public readonly void Execute(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                float* mask = Mask + (long)b * T;
                float count = TensorPrimitives.Sum(new ReadOnlySpan<float>(mask, T));
                float inv = 1f / MathF.Max(1f, count);
                var y = new Span<float>(Y + (long)b * D, D);
                if (Backward)
                {
                    for (int t = 0; t < T; t++)
                    {
                        if (mask[t] == 0f) continue;
                        var dx = new Span<float>(X + ((long)b * T + t) * D, D);
                        TensorPrimitives.MultiplyAdd(y, mask[t] * inv, dx, dx);
                    }
                }
                else
                {
                    y.Clear();
                    for (int t = 0; t < T; t++)
                        if (mask[t] != 0f)
                            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(X + ((long)b * T + t) * D, D), mask[t], y, y);
                    TensorPrimitives.Multiply(y, inv, y);
                }
            }
        }
    }
}
