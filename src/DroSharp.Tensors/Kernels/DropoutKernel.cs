using System.Runtime.CompilerServices;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Inverted dropout with a counter-based mask: element i is kept iff the top 24 bits of
/// SplitMix64(key(seed) + i·φ) are ≥ p·2²⁴, so the mask is a pure function of (seed, i), is the same
/// for any thread split, and backward regenerates it instead of storing it.
/// y = keep ? x / (1 − p) : 0.
/// </summary>
public static unsafe class DropoutKernel
{
    /// <summary>y = mask ⊙ x / (1 − p).</summary>
    public static void Forward(float* x, float* y, int n, float p, ulong seed) => Run(x, y, n, p, seed, backward: false);

    /// <summary>dx += mask ⊙ dy / (1 − p).</summary>
    public static void Backward(float* dy, float* dx, int n, float p, ulong seed) => Run(dy, dx, n, p, seed, backward: true);

    /// <summary>Whether element <paramref name="index"/> survives dropout with probability p and this seed.</summary>
    public static bool Keeps(ulong seed, long index, float p) => Bits(Key(seed), index) >= Threshold(p);

    private static ulong Key(ulong seed) => Mix(seed + 0x9E3779B97F4A7C15UL);

    private static ulong Threshold(float p) => (ulong)Math.Ceiling(p * 16777216.0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bits(ulong key, long index) => Mix(key + (ulong)index * 0x9E3779B97F4A7C15UL) >> 40;

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
        var job = new Job { Src = src, Dst = dst, Key = Key(seed), Threshold = Threshold(p), Scale = 1f / (1f - p), Backward = backward };
        WorkerPool.Default.For(n, ref job, ElementwiseKernels.MinPerThread / 4);
    }

    private struct Job : IParallelJob
    {
        public float* Src, Dst;
        public ulong Key, Threshold;
        public float Scale;
        public bool Backward;

        public readonly void Execute(int start, int end)
        {
            if (Backward)
            {
                for (int i = start; i < end; i++)
                    if (Bits(Key, i) >= Threshold) Dst[i] += Src[i] * Scale;
            }
            else
            {
                for (int i = start; i < end; i++)
                    Dst[i] = Bits(Key, i) >= Threshold ? Src[i] * Scale : 0f;
            }
        }
    }
}
