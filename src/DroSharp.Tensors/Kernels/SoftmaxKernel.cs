using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Softmax and log-softmax over the last axis of [rows, n], with the row building blocks that
/// attention, log-prob gathering and sampling share. Rows are split over the worker pool.
/// <code>
/// softmax(x)ⱼ = exp(xⱼ − m) / Σₖ exp(xₖ − m),  m = maxₖ xₖ   (−∞ entries get 0; an all −∞ row gives zeros)
/// logsoftmax(x)ⱼ = xⱼ − m − log Σₖ exp(xₖ − m)
/// </code>
/// </summary>
public static unsafe class SoftmaxKernel
{
    /// <summary>y = softmax(x) row by row. x, y: [rows, n]; y may be x.</summary>
    public static void Forward(float* x, float* y, int rows, int n) => Run(Kind.Softmax, x, y, null, rows, n);

    /// <summary>y = log softmax(x) row by row. y may be x.</summary>
    public static void LogForward(float* x, float* y, int rows, int n) => Run(Kind.LogSoftmax, x, y, null, rows, n);

    /// <summary>dx += y ⊙ (dy − Σⱼ dyⱼ·yⱼ) row by row, from the softmax output y.</summary>
    public static void Backward(float* y, float* dy, float* dx, int rows, int n) => Run(Kind.SoftmaxBackward, y, dy, dx, rows, n);

    /// <summary>dx += dy − exp(y)·Σⱼ dyⱼ row by row, from the log-softmax output y.</summary>
    public static void LogBackward(float* y, float* dy, float* dx, int rows, int n) => Run(Kind.LogSoftmaxBackward, y, dy, dx, rows, n);

    /// <summary>One row: y = softmax(x), single-threaded. y may be x.</summary>
    public static void SoftmaxRow(float* x, float* y, int n)
    {
        if (n <= 0) return;
        float m = TensorPrimitives.Max(new ReadOnlySpan<float>(x, n));
        if (float.IsNegativeInfinity(m))
        {
            new Span<float>(y, n).Clear();
            return;
        }
        float s = ExpSum(x, y, n, m, KernelDispatch.Level);
        TensorPrimitives.Multiply(new ReadOnlySpan<float>(y, n), 1f / s, new Span<float>(y, n));
    }

    /// <summary>One row: y = log softmax(x), single-threaded. y may be x.</summary>
    public static void LogSoftmaxRow(float* x, float* y, int n)
    {
        if (n <= 0) return;
        float lse = LogSumExp(x, n, KernelDispatch.Level);
        TensorPrimitives.Subtract(new ReadOnlySpan<float>(x, n), lse, new Span<float>(y, n));
    }

    /// <summary>log Σⱼ exp(xⱼ), computed as m + log Σⱼ exp(xⱼ − m).</summary>
    public static float LogSumExp(float* x, int n) => LogSumExp(x, n, KernelDispatch.Level);

    /// <summary>Elements per block of <see cref="LogSumExp(float*, int, SimdLevel)"/>: 8 KB, stays in L1.</summary>
    private const int LseBlock = 2048;

    /// <summary>
    /// log Σⱼ exp(xⱼ) in one pass over memory: per L1-sized block, its max, then the block's exp-sum
    /// relative to the running max m (rescaling the running sum by exp(m_old − m_new) when m grows).
    /// A row is read from memory once instead of twice (max pass, then exp pass).
    /// </summary>
    internal static float LogSumExp(float* x, int n, SimdLevel level)
    {
        float m = float.NegativeInfinity, s = 0f;
        for (int b = 0; b < n; b += LseBlock)
        {
            int len = Math.Min(LseBlock, n - b);
            float bm = TensorPrimitives.Max(new ReadOnlySpan<float>(x + b, len));
            if (bm > m)
            {
                if (float.IsPositiveInfinity(bm)) return bm;
                s *= MathF.Exp(m - bm);
                m = bm;
            }
            if (float.IsNegativeInfinity(m)) continue;
            s += ExpSum(x + b, null, len, m, level);
        }
        return m + MathF.Log(s);
    }

    /// <summary>
    /// Σⱼ exp(xⱼ − shift), also writing the terms to y when y is not null (y may be x).
    /// Two vector accumulators, summed in a fixed order.
    /// </summary>
    internal static float ExpSum(float* x, float* y, int n, float shift, SimdLevel level)
    {
        int i = 0;
        float sum = 0f;
        if (level == SimdLevel.Vector512)
        {
            var sh = Vector512.Create(shift);
            Vector512<float> s0 = default, s1 = default;
            for (; i + 32 <= n; i += 32)
            {
                var e0 = FastMath.Exp(Vector512.Load(x + i) - sh);
                var e1 = FastMath.Exp(Vector512.Load(x + i + 16) - sh);
                if (y != null) { e0.Store(y + i); e1.Store(y + i + 16); }
                s0 += e0; s1 += e1;
            }
            for (; i + 16 <= n; i += 16)
            {
                var e0 = FastMath.Exp(Vector512.Load(x + i) - sh);
                if (y != null) e0.Store(y + i);
                s0 += e0;
            }
            sum = Vector512.Sum(s0 + s1);
        }
        else if (level == SimdLevel.Vector256)
        {
            var sh = Vector256.Create(shift);
            Vector256<float> s0 = default, s1 = default;
            for (; i + 16 <= n; i += 16)
            {
                var e0 = FastMath.Exp(Vector256.Load(x + i) - sh);
                var e1 = FastMath.Exp(Vector256.Load(x + i + 8) - sh);
                if (y != null) { e0.Store(y + i); e1.Store(y + i + 8); }
                s0 += e0; s1 += e1;
            }
            for (; i + 8 <= n; i += 8)
            {
                var e0 = FastMath.Exp(Vector256.Load(x + i) - sh);
                if (y != null) e0.Store(y + i);
                s0 += e0;
            }
            sum = Vector256.Sum(s0 + s1);
        }
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - shift);
            if (y != null) y[i] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>dx[j] += scale·exp(x[j] − shift).</summary>
    internal static void AccumulateScaledExp(float* x, float* dx, int n, float shift, float scale, SimdLevel level) =>
        ScaledExp(x, dx, n, shift, scale, level, accumulate: true);

    /// <summary>dx[j] (+)= scale·exp(x[j] − shift).</summary>
    internal static void ScaledExp(float* x, float* dx, int n, float shift, float scale, SimdLevel level, bool accumulate)
    {
        int i = 0;
        if (level == SimdLevel.Vector512)
        {
            var sh = Vector512.Create(shift);
            var sc = Vector512.Create(scale);
            if (accumulate)
                for (; i + 16 <= n; i += 16)
                    Vector512.FusedMultiplyAdd(FastMath.Exp(Vector512.Load(x + i) - sh), sc, Vector512.Load(dx + i)).Store(dx + i);
            else
                for (; i + 16 <= n; i += 16)
                    (FastMath.Exp(Vector512.Load(x + i) - sh) * sc).Store(dx + i);
        }
        else if (level == SimdLevel.Vector256)
        {
            var sh = Vector256.Create(shift);
            var sc = Vector256.Create(scale);
            if (accumulate)
                for (; i + 8 <= n; i += 8)
                    Vector256.FusedMultiplyAdd(FastMath.Exp(Vector256.Load(x + i) - sh), sc, Vector256.Load(dx + i)).Store(dx + i);
            else
                for (; i + 8 <= n; i += 8)
                    (FastMath.Exp(Vector256.Load(x + i) - sh) * sc).Store(dx + i);
        }
        if (accumulate) for (; i < n; i++) dx[i] += scale * MathF.Exp(x[i] - shift);
        else for (; i < n; i++) dx[i] = scale * MathF.Exp(x[i] - shift);
    }

    private enum Kind { Softmax, LogSoftmax, SoftmaxBackward, LogSoftmaxBackward }

    private static void Run(Kind kind, float* a, float* b, float* c, int rows, int n)
    {
        if (n <= 0) return;
        var job = new Job { Kind = kind, A = a, B = b, C = c, N = n };
        WorkerPool.Default.For(rows, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / 4 / n));
    }

    private struct Job : IParallelJob
    {
        public Kind Kind;
        public float* A, B, C;
        public int N;

        public readonly void Execute(int start, int end)
        {
            var level = KernelDispatch.Level;
            for (int r = start; r < end; r++)
            {
                long o = (long)r * N;
                switch (Kind)
                {
                    case Kind.Softmax: SoftmaxRow(A + o, B + o, N); break;
                    case Kind.LogSoftmax: LogSoftmaxRow(A + o, B + o, N); break;
                    case Kind.SoftmaxBackward:
                    {
                        // dx += y⊙dy − (Σ dy⊙y)·y
                        var y = new ReadOnlySpan<float>(A + o, N);
                        var dx = new Span<float>(C + o, N);
                        float dot = TensorPrimitives.Dot(y, new ReadOnlySpan<float>(B + o, N));
                        TensorPrimitives.MultiplyAdd(y, new ReadOnlySpan<float>(B + o, N), dx, dx);
                        TensorPrimitives.MultiplyAdd(y, -dot, dx, dx);
                        break;
                    }
                    case Kind.LogSoftmaxBackward:
                    {
                        // dx += dy − exp(y)·Σ dy
                        var dy = new ReadOnlySpan<float>(B + o, N);
                        var dx = new Span<float>(C + o, N);
                        float sum = TensorPrimitives.Sum(dy);
                        TensorPrimitives.Add(dx, dy, dx);
                        AccumulateScaledExp(A + o, C + o, N, 0f, -sum, level);
                        break;
                    }
                }
            }
        }
    }
}
