using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// RMS norm (no mean subtraction, no bias) over rows of length d: T5's and Llama's with w′ = w,
/// Gemma's with w′ = 1 + w (weight offset 1).
/// <code>
/// forward:  r = 1/√(mean(x²) + eps)             rstd: [rows]
///           y = w′ ⊙ x · r,  w′ = w + offset     x, y: [rows, d], w: [d]
/// backward: dx = r·(w′⊙dy) − x·r³·(Σₖ w′ₖ dyₖ xₖ)/d
///           dw = Σ_rows dy ⊙ x · r
/// </code>
/// </summary>
public static unsafe class RmsNormKernel
{
    /// <summary>y = w ⊙ x · rstd; writes the per-row rstd when <paramref name="rstd"/> is not null.</summary>
    public static void Forward(float* x, float* w, float* y, float* rstd, int rows, int d, float eps)
        => Forward(x, w, 0f, y, rstd, rows, d, eps);

    /// <summary>y = (w + weightOffset) ⊙ x · rstd (weightOffset 1: Gemma's 1 + w).</summary>
    public static void Forward(float* x, float* w, float weightOffset, float* y, float* rstd, int rows, int d, float eps)
    {
        var job = new ForwardJob { X = x, W = w, Offset = weightOffset, Y = y, Rstd = rstd, D = d, Eps = eps, Level = KernelDispatch.Level };
        WorkerPool.Default.For(rows, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / 2 / Math.Max(1, d)));
    }

    /// <summary>dx += …, dw += … (see the class summary). Either gradient may be null.</summary>
    public static void Backward(float* x, float* w, float* rstd, float* dy, float* dx, float* dw, int rows, int d)
        => Backward(x, w, 0f, rstd, dy, dx, dw, rows, d);

    /// <summary>Backward of the forward with <paramref name="weightOffset"/> (dw is the same: d(w + offset)/dw = 1).</summary>
    public static void Backward(float* x, float* w, float weightOffset, float* rstd, float* dy, float* dx, float* dw, int rows, int d)
    {
        if (dx != null)
        {
            var job = new InputGradJob { X = x, W = w, Offset = weightOffset, Rstd = rstd, DY = dy, DX = dx, D = d, Level = KernelDispatch.Level };
            WorkerPool.Default.For(rows, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / 2 / Math.Max(1, d)));
        }
        if (dw != null)
        {
            // Parallel over blocks of 16 columns: each thread sums all rows of its own columns in row
            // order, so the result does not depend on the thread count.
            var job = new WeightGradJob { X = x, Rstd = rstd, DY = dy, DW = dw, Rows = rows, D = d, Level = KernelDispatch.Level };
            WorkerPool.Default.For((d + 15) / 16, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / 32 / Math.Max(1, rows)));
        }
    }

    private struct ForwardJob : IParallelJob
    {
        public float* X, W, Y, Rstd;
        public int D;
        public float Eps, Offset;
        public SimdLevel Level;

        public readonly void Execute(int start, int end)
        {
            int d = D;
            for (int row = start; row < end; row++)
            {
                float* x = X + (long)row * d, y = Y + (long)row * d;
                float ss = TensorPrimitives.SumOfSquares(new ReadOnlySpan<float>(x, d));
                float r = 1f / MathF.Sqrt(ss / d + Eps);
                if (Rstd != null) Rstd[row] = r;
                int i = 0;
                if (Level == SimdLevel.Vector512)
                {
                    var rv = Vector512.Create(r);
                    var off = Vector512.Create(Offset);
                    for (; i + 16 <= d; i += 16) (Vector512.Load(x + i) * (Vector512.Load(W + i) + off) * rv).Store(y + i);
                }
                else if (Level == SimdLevel.Vector256)
                {
                    var rv = Vector256.Create(r);
                    var off = Vector256.Create(Offset);
                    for (; i + 8 <= d; i += 8) (Vector256.Load(x + i) * (Vector256.Load(W + i) + off) * rv).Store(y + i);
                }
                for (; i < d; i++) y[i] = x[i] * (W[i] + Offset) * r;
            }
        }
    }

    private struct InputGradJob : IParallelJob
    {
        public float* X, W, Rstd, DY, DX;
        public int D;
        public float Offset;
        public SimdLevel Level;

        public readonly void Execute(int start, int end)
        {
            int d = D;
            float* w = W;
            for (int row = start; row < end; row++)
            {
                long o = (long)row * d;
                float* x = X + o, dy = DY + o, dx = DX + o;
                float r = Rstd[row];

                // dot = Σ w′·dy·x
                int i = 0;
                float dot = 0f;
                if (Level == SimdLevel.Vector512)
                {
                    var acc = Vector512<float>.Zero;
                    var off = Vector512.Create(Offset);
                    for (; i + 16 <= d; i += 16) acc = Vector512.FusedMultiplyAdd((Vector512.Load(w + i) + off) * Vector512.Load(dy + i), Vector512.Load(x + i), acc);
                    dot = Vector512.Sum(acc);
                }
                else if (Level == SimdLevel.Vector256)
                {
                    var acc = Vector256<float>.Zero;
                    var off = Vector256.Create(Offset);
                    for (; i + 8 <= d; i += 8) acc = Vector256.FusedMultiplyAdd((Vector256.Load(w + i) + off) * Vector256.Load(dy + i), Vector256.Load(x + i), acc);
                    dot = Vector256.Sum(acc);
                }
                for (; i < d; i++) dot += (w[i] + Offset) * dy[i] * x[i];

                // dx += r·w′·dy − c·x,  c = r³·dot/d
                float c = r * r * r * dot / d;
                i = 0;
                if (Level == SimdLevel.Vector512)
                {
                    var rv = Vector512.Create(r);
                    var cv = Vector512.Create(-c);
                    var off = Vector512.Create(Offset);
                    for (; i + 16 <= d; i += 16)
                    {
                        var t = Vector512.FusedMultiplyAdd((Vector512.Load(w + i) + off) * Vector512.Load(dy + i), rv, Vector512.Load(dx + i));
                        Vector512.FusedMultiplyAdd(Vector512.Load(x + i), cv, t).Store(dx + i);
                    }
                }
                else if (Level == SimdLevel.Vector256)
                {
                    var rv = Vector256.Create(r);
                    var cv = Vector256.Create(-c);
                    var off = Vector256.Create(Offset);
                    for (; i + 8 <= d; i += 8)
                    {
                        var t = Vector256.FusedMultiplyAdd((Vector256.Load(w + i) + off) * Vector256.Load(dy + i), rv, Vector256.Load(dx + i));
                        Vector256.FusedMultiplyAdd(Vector256.Load(x + i), cv, t).Store(dx + i);
                    }
                }
                for (; i < d; i++) dx[i] += r * (w[i] + Offset) * dy[i] - c * x[i];
            }
        }
    }

    private struct WeightGradJob : IParallelJob
    {
        public float* X, Rstd, DY, DW;
        public int Rows, D;
        public SimdLevel Level;

        public readonly void Execute(int blockStart, int blockEnd)
        {
            int start = blockStart * 16, end = Math.Min(D, blockEnd * 16);
            float* dw = DW;
            for (int row = 0; row < Rows; row++)
            {
                long o = (long)row * D;
                float* dy = DY + o, x = X + o;
                float r = Rstd[row];
                int i = start;
                if (Level == SimdLevel.Vector512)
                {
                    var rv = Vector512.Create(r);
                    for (; i + 16 <= end; i += 16)
                        Vector512.FusedMultiplyAdd(Vector512.Load(dy + i) * Vector512.Load(x + i), rv, Vector512.Load(dw + i)).Store(dw + i);
                }
                else if (Level == SimdLevel.Vector256)
                {
                    var rv = Vector256.Create(r);
                    for (; i + 8 <= end; i += 8)
                        Vector256.FusedMultiplyAdd(Vector256.Load(dy + i) * Vector256.Load(x + i), rv, Vector256.Load(dw + i)).Store(dw + i);
                }
                for (; i < end; i++) dw[i] += dy[i] * x[i] * r;
            }
        }
    }
}
