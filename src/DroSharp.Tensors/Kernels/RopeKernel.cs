using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Rotary position embedding in Hugging Face's rotate-half layout, per head of D dims of which the
/// first R = rotaryDim rotate (partial rotary: the rest pass through). With h = R/2, c = cos[pos, :],
/// s = sin[pos, :] ([h] each, attention scaling included), x1 = x[0:h], x2 = x[h:R]:
/// <code>
/// forward:  y1 = x1·c − x2·s;   y2 = x2·c + x1·s;   y[R:D] = x[R:D]     (x·cos + rotate_half(x)·sin)
/// backward: dx1 += dy1·c + dy2·s;   dx2 += dy2·c − dy1·s;   dx[R:D] += dy[R:D]   (rotation by −θ)
/// </code>
/// x, y: [rows, heads·D]; positions: [rows]; cos, sin: [maxPositions, h]. Parallel over rows.
/// </summary>
public static unsafe class RopeKernel
{
    public static void Forward(float* x, float* y, float* cos, float* sin, int* positions, int rows, int heads, int headDim, int rotaryDim)
        => Run(x, y, cos, sin, positions, rows, heads, headDim, rotaryDim, backward: false);

    /// <summary>dx += the rotation of dy by −θ (see the class summary).</summary>
    public static void Backward(float* dy, float* dx, float* cos, float* sin, int* positions, int rows, int heads, int headDim, int rotaryDim)
        => Run(dy, dx, cos, sin, positions, rows, heads, headDim, rotaryDim, backward: true);

    /// <summary>
    /// <see cref="Backward"/> with <paramref name="store"/>: dx = R(−θ)·dy + 0, the values accumulating
    /// into zeros would give, written over whatever dx holds.
    /// </summary>
    public static void Backward(float* dy, float* dx, float* cos, float* sin, int* positions, int rows, int heads, int headDim, int rotaryDim, bool store)
        => Run(dy, dx, cos, sin, positions, rows, heads, headDim, rotaryDim, backward: true, store);

    private static void Run(float* x, float* y, float* cos, float* sin, int* positions, int rows, int heads, int headDim, int rotaryDim, bool backward,
        bool store = false)
    {
        var job = new Job
        {
            X = x, Y = y, Cos = cos, Sin = sin, Positions = positions, Heads = heads, D = headDim, R = rotaryDim,
            Backward = backward, Store = store, Level = KernelDispatch.Level,
        };
        WorkerPool.Default.For(rows, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / 2 / Math.Max(1, heads * headDim)));
    }

    private struct Job : IParallelJob
    {
        public float* X, Y, Cos, Sin;
        public int* Positions;
        public int Heads, D, R;
        public bool Backward, Store;
        public SimdLevel Level;

        public readonly void Execute(int start, int end)
        {
            int d = D, h = R / 2, width = Heads * d;
            // Backward rotates by −θ: the same formulas with sin negated.
            float sign = Backward ? -1f : 1f;
            for (int row = start; row < end; row++)
            {
                long off = (long)row * width;
                float* c = Cos + (long)Positions[row] * h, s = Sin + (long)Positions[row] * h;
                for (int head = 0; head < Heads; head++)
                {
                    float* x = X + off + head * d, y = Y + off + head * d;
                    Rotate(x, y, c, s, h, sign, Backward, Store, Level);
                    for (int j = R; j < d; j++) y[j] = Backward ? (Store ? 0f : y[j]) + x[j] : x[j];
                }
            }
        }
    }

    // y1 (+)= x1·c − σ·x2·s;  y2 (+)= x2·c + σ·x1·s   over h pairs (σ = ±1; + with accumulate, into
    // zeros rather than y's contents with zeroed)
    private static void Rotate(float* x, float* y, float* c, float* s, int h, float sign, bool accumulate, bool zeroed, SimdLevel level)
    {
        float* x1 = x, x2 = x + h, y1 = y, y2 = y + h;
        int j = 0;
        if (level == SimdLevel.Vector512)
        {
            var vs = Vector512.Create(sign);
            for (; j + 16 <= h; j += 16)
            {
                var a = Vector512.Load(x1 + j);
                var b = Vector512.Load(x2 + j);
                var vc = Vector512.Load(c + j);
                var sn = Vector512.Load(s + j) * vs;
                var r1 = a * vc - b * sn;
                var r2 = b * vc + a * sn;
                if (accumulate)
                {
                    r1 += zeroed ? Vector512<float>.Zero : Vector512.Load(y1 + j);
                    r2 += zeroed ? Vector512<float>.Zero : Vector512.Load(y2 + j);
                }
                r1.Store(y1 + j);
                r2.Store(y2 + j);
            }
        }
        if (level >= SimdLevel.Vector256)
        {
            var vs = Vector256.Create(sign);
            for (; j + 8 <= h; j += 8)
            {
                var a = Vector256.Load(x1 + j);
                var b = Vector256.Load(x2 + j);
                var vc = Vector256.Load(c + j);
                var sn = Vector256.Load(s + j) * vs;
                var r1 = a * vc - b * sn;
                var r2 = b * vc + a * sn;
                if (accumulate)
                {
                    r1 += zeroed ? Vector256<float>.Zero : Vector256.Load(y1 + j);
                    r2 += zeroed ? Vector256<float>.Zero : Vector256.Load(y2 + j);
                }
                r1.Store(y1 + j);
                r2.Store(y2 + j);
            }
        }
        for (; j < h; j++)
        {
            float a = x1[j], b = x2[j], sn = s[j] * sign;
            float r1 = a * c[j] - b * sn, r2 = b * c[j] + a * sn;
            y1[j] = accumulate ? (zeroed ? 0f : y1[j]) + r1 : r1;
            y2[j] = accumulate ? (zeroed ? 0f : y2[j]) + r2 : r2;
        }
    }
}
