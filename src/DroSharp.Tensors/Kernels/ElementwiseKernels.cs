using System.Numerics.Tensors;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Element-by-element arithmetic on flat float arrays of length n, split into contiguous chunks over
/// the worker pool (each chunk through <see cref="TensorPrimitives"/>). Outputs may alias an input
/// exactly (y = a) but must not partially overlap one.
/// </summary>
public static unsafe class ElementwiseKernels
{
    /// <summary>Below this many elements per thread the pool is not worth waking.</summary>
    internal const int MinPerThread = 1 << 15;

    /// <summary>y = a + b.</summary>
    public static void Add(float* a, float* b, float* y, int n) => Run(Op.Add, a, b, y, 0f, n);

    /// <summary>y = a − b.</summary>
    public static void Sub(float* a, float* b, float* y, int n) => Run(Op.Sub, a, b, y, 0f, n);

    /// <summary>y = a ⊙ b.</summary>
    public static void Mul(float* a, float* b, float* y, int n) => Run(Op.Mul, a, b, y, 0f, n);

    /// <summary>y = s·a.</summary>
    public static void Scale(float* a, float s, float* y, int n) => Run(Op.Scale, a, null, y, s, n);

    /// <summary>y += a.</summary>
    public static void Accumulate(float* a, float* y, int n) => Run(Op.Accumulate, a, null, y, 0f, n);

    /// <summary>x[0, n) = 0, split over the pool above <see cref="MinPerThread"/>·8 elements (a clear runs at memory speed, so less is not worth waking a thread for).</summary>
    public static void Clear(float* x, int n)
    {
        if (n < 8 * MinPerThread)
        {
            new Span<float>(x, n).Clear();
            return;
        }
        var job = new ClearJob { X = x };
        WorkerPool.Default.For(n, ref job, 8 * MinPerThread);
    }

    private struct ClearJob : IParallelJob
    {
        public float* X;

        public readonly void Execute(int start, int end) => new Span<float>(X + start, end - start).Clear();
    }

    /// <summary>y += a, or with <paramref name="store"/> y = a + 0 (the same values as accumulating into zeros; y may hold anything).</summary>
    public static void Accumulate(float* a, float* y, int n, bool store) => Run(store ? Op.StorePlusZero : Op.Accumulate, a, null, y, 0f, n);

    /// <summary>y += s·a.</summary>
    public static void AccumulateScaled(float* a, float s, float* y, int n) => Run(Op.AccumulateScaled, a, null, y, s, n);

    /// <summary>y += a ⊙ b.</summary>
    public static void AccumulateProduct(float* a, float* b, float* y, int n) => Run(Op.AccumulateProduct, a, b, y, 0f, n);

    /// <summary>y[r, :] = x[r, :] + bias for each of <paramref name="rows"/> rows of length n.</summary>
    public static void AddBias(float* x, float* bias, float* y, int rows, int n)
    {
        var job = new BiasJob { X = x, Bias = bias, Y = y, N = n };
        WorkerPool.Default.For(rows, ref job, Math.Max(1, MinPerThread / Math.Max(1, n)));
    }

    /// <summary>dBias += Σ_r dY[r, :] (rows summed in order; parallel over columns, so deterministic).</summary>
    public static void AccumulateColumnSums(float* dy, float* dBias, int rows, int n)
    {
        var job = new ColumnSumJob { DY = dy, DBias = dBias, Rows = rows, N = n };
        // Each thread owns whole blocks of 16 columns and walks all rows in order.
        WorkerPool.Default.For((n + 15) / 16, ref job, Math.Max(1, MinPerThread / 16 / Math.Max(1, rows)));
    }

    private enum Op { Add, Sub, Mul, Scale, Accumulate, AccumulateScaled, AccumulateProduct, StorePlusZero }

    private static void Run(Op op, float* a, float* b, float* y, float s, int n)
    {
        var job = new Job { Op = op, A = a, B = b, Y = y, S = s };
        WorkerPool.Default.For(n, ref job, MinPerThread);
    }

    private struct Job : IParallelJob
    {
        public Op Op;
        public float* A, B, Y;
        public float S;

        public readonly void Execute(int start, int end)
        {
            int len = end - start;
            var a = new ReadOnlySpan<float>(A + start, len);
            var y = new Span<float>(Y + start, len);
            switch (Op)
            {
                case Op.Add: TensorPrimitives.Add(a, new ReadOnlySpan<float>(B + start, len), y); break;
                case Op.Sub: TensorPrimitives.Subtract(a, new ReadOnlySpan<float>(B + start, len), y); break;
                case Op.Mul: TensorPrimitives.Multiply(a, new ReadOnlySpan<float>(B + start, len), y); break;
                case Op.Scale: TensorPrimitives.Multiply(a, S, y); break;
                case Op.Accumulate: TensorPrimitives.Add(y, a, y); break;
                case Op.StorePlusZero: TensorPrimitives.Add(a, 0f, y); break;
                case Op.AccumulateScaled: TensorPrimitives.MultiplyAdd(a, S, y, y); break;
                case Op.AccumulateProduct: TensorPrimitives.MultiplyAdd(a, new ReadOnlySpan<float>(B + start, len), y, y); break;
            }
        }
    }

    private struct BiasJob : IParallelJob
    {
        public float* X, Bias, Y;
        public int N;

        public readonly void Execute(int start, int end)
        {
            var bias = new ReadOnlySpan<float>(Bias, N);
            for (int r = start; r < end; r++)
                TensorPrimitives.Add(new ReadOnlySpan<float>(X + (long)r * N, N), bias, new Span<float>(Y + (long)r * N, N));
        }
    }

    private struct ColumnSumJob : IParallelJob
    {
        public float* DY, DBias;
        public int Rows, N;

        public readonly void Execute(int blockStart, int blockEnd)
        {
            int start = blockStart * 16, end = Math.Min(N, blockEnd * 16);
            var acc = new Span<float>(DBias + start, end - start);
            for (int r = 0; r < Rows; r++)
                TensorPrimitives.Add(acc, new ReadOnlySpan<float>(DY + (long)r * N + start, end - start), acc);
        }
    }
}
