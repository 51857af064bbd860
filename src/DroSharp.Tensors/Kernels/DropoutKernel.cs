using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Inverted dropout with a counter-based mask: element i is kept iff the top 24 bits of
/// SplitMix64(key(seed) + i·φ) are ≥ p·2²⁴, so the mask is a pure function of (seed, i), is the same
/// for any thread split, and backward regenerates it instead of storing it.
/// y = keep ? x / (1 − p) : 0. The vector paths hash 16 (8) indices at once with 64-bit lane
/// arithmetic and give exactly the scalar mask and values.
/// </summary>
public static unsafe class DropoutKernel
{
    /// <summary>y = mask ⊙ x / (1 − p).</summary>
    public static void Forward(float* x, float* y, int n, float p, ulong seed) => Run(x, y, n, p, seed, backward: false);

    /// <summary>dx += mask ⊙ dy / (1 − p).</summary>
    public static void Backward(float* dy, float* dx, int n, float p, ulong seed) => Run(dy, dx, n, p, seed, backward: true);

    /// <summary>Whether element <paramref name="index"/> survives dropout with probability p and this seed.</summary>
    public static bool Keeps(ulong seed, long index, float p) => Bits(Key(seed), index) >= Threshold(p);

    private static ulong Key(ulong seed) => Mix(seed + Phi);

    private static ulong Threshold(float p) => (ulong)Math.Ceiling(p * 16777216.0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bits(ulong key, long index) => Mix(key + (ulong)index * Phi) >> 40;

    // SplitMix64's finaliser (Stafford's variant 13): a bijection with full avalanche.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static void Run(float* src, float* dst, int n, float p, ulong seed, bool backward)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability {p} is not in [0, 1)");
        var job = new Job
        {
            Src = src, Dst = dst, Key = Key(seed), Threshold = Threshold(p), Scale = 1f / (1f - p), Backward = backward,
            Level = KernelDispatch.Level,
        };
        WorkerPool.Default.For(n, ref job, ElementwiseKernels.MinPerThread / 4);
    }

    private const ulong Phi = 0x9E3779B97F4A7C15UL;

    private struct Job : IParallelJob
    {
        public float* Src, Dst;
        public ulong Key, Threshold;
        public float Scale;
        public bool Backward;
        public SimdLevel Level;

        public readonly void Execute(int start, int end)
        {
            int i = start;
            if (Level == SimdLevel.Vector512) i = Range512(i, end);
            else if (Level == SimdLevel.Vector256) i = Range256(i, end);
            if (Backward)
            {
                for (; i < end; i++)
                    if (Bits(Key, i) >= Threshold) Dst[i] += Src[i] * Scale;
            }
            else
            {
                for (; i < end; i++)
                    Dst[i] = Bits(Key, i) >= Threshold ? Src[i] * Scale : 0f;
            }
        }

        // 16 elements at a time: the 64-bit hashes of i … i + 15 in two vectors (advanced by 16·φ per
        // step, the same wrapping sums as key + i·φ), their top 24 bits narrowed to 32-bit lanes and
        // compared with the threshold: exactly the scalar mask. Returns where the scalar tail starts.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly int Range512(int i, int end)
        {
            if (end - i < 16) return i;
            var lo = Vector512.Create(Key + (ulong)i * Phi) + Vector512<ulong>.Indices * Vector512.Create(Phi);
            var hi = lo + Vector512.Create(unchecked(8 * Phi));
            var step = Vector512.Create(unchecked(16 * Phi));
            var threshold = Vector512.Create((uint)Threshold);
            var scale = Vector512.Create(Scale);
            for (; i + 16 <= end; i += 16)
            {
                var bits = Vector512.Narrow(Vector512.ShiftRightLogical(Mix(lo), 40), Vector512.ShiftRightLogical(Mix(hi), 40));
                var keep = Vector512.GreaterThanOrEqual(bits, threshold).AsSingle();
                var x = Vector512.Load(Src + i) * scale;
                if (Backward)
                {
                    var d = Vector512.Load(Dst + i);
                    Vector512.ConditionalSelect(keep, d + x, d).Store(Dst + i);
                }
                else (x & keep).Store(Dst + i);
                lo += step;
                hi += step;
            }
            return i;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly int Range256(int i, int end)
        {
            if (end - i < 8) return i;
            var lo = Vector256.Create(Key + (ulong)i * Phi) + Vector256<ulong>.Indices * Vector256.Create(Phi);
            var hi = lo + Vector256.Create(unchecked(4 * Phi));
            var step = Vector256.Create(unchecked(8 * Phi));
            var threshold = Vector256.Create((uint)Threshold);
            var scale = Vector256.Create(Scale);
            for (; i + 8 <= end; i += 8)
            {
                var bits = Vector256.Narrow(Vector256.ShiftRightLogical(Mix(lo), 40), Vector256.ShiftRightLogical(Mix(hi), 40));
                var keep = Vector256.GreaterThanOrEqual(bits, threshold).AsSingle();
                var x = Vector256.Load(Src + i) * scale;
                if (Backward)
                {
                    var d = Vector256.Load(Dst + i);
                    Vector256.ConditionalSelect(keep, d + x, d).Store(Dst + i);
                }
                else (x & keep).Store(Dst + i);
                lo += step;
                hi += step;
            }
            return i;
        }
    }

    // Mix on every lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(0x94D049BB133111EBUL);
        return z ^ Vector512.ShiftRightLogical(z, 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Mix(Vector256<ulong> z)
    {
        z = (z ^ Vector256.ShiftRightLogical(z, 30)) * Vector256.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ Vector256.ShiftRightLogical(z, 27)) * Vector256.Create(0x94D049BB133111EBUL);
        return z ^ Vector256.ShiftRightLogical(z, 31);
    }
}
