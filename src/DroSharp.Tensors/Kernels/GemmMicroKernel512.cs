using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// AVX-512 micro-kernel: a 12×32 tile of C held in 24 zmm accumulators. Per k step it loads two
/// vectors of B (32 columns), broadcasts 12 elements of A and issues 24 FMAs, so the two FMA
/// ports stay busy while the loads (well under two per cycle) come from L1/L2.
/// </summary>
internal readonly unsafe struct GemmMicroKernel512 : IGemmMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;
    public static SimdLevel Level => SimdLevel.Vector512;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, bool add)
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector512<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        Vector512<float> c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default;
        Vector512<float> c9a = default, c9b = default, c10a = default, c10b = default, c11a = default, c11b = default;
        // The C tile is needed after the k loop: fetch it into L2 now (it may come from DRAM) and into
        // L1 24 k steps before the end (earlier, the streamed B panel would evict it from L1 again:
        // with ldc a multiple of 1024 floats all its rows share the same L1 sets).
        for (int r = 0; r < 12; r++) { Sse.Prefetch1(c + r * ldc); Sse.Prefetch1(c + r * ldc + 16); }
        int tail = Math.Min(kc, 24);
        for (int p = kc - tail; p > 0; p--)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Sse.Prefetch0(b + 256); Sse.Prefetch0(b + 272); // B streams from L2: 8 k steps ahead
            Vector512<float> ai;
            ai = Vector512.Create(a[0]); c0a = Vector512.FusedMultiplyAdd(ai, b0, c0a); c0b = Vector512.FusedMultiplyAdd(ai, b1, c0b);
            ai = Vector512.Create(a[1]); c1a = Vector512.FusedMultiplyAdd(ai, b0, c1a); c1b = Vector512.FusedMultiplyAdd(ai, b1, c1b);
            ai = Vector512.Create(a[2]); c2a = Vector512.FusedMultiplyAdd(ai, b0, c2a); c2b = Vector512.FusedMultiplyAdd(ai, b1, c2b);
            ai = Vector512.Create(a[3]); c3a = Vector512.FusedMultiplyAdd(ai, b0, c3a); c3b = Vector512.FusedMultiplyAdd(ai, b1, c3b);
            ai = Vector512.Create(a[4]); c4a = Vector512.FusedMultiplyAdd(ai, b0, c4a); c4b = Vector512.FusedMultiplyAdd(ai, b1, c4b);
            ai = Vector512.Create(a[5]); c5a = Vector512.FusedMultiplyAdd(ai, b0, c5a); c5b = Vector512.FusedMultiplyAdd(ai, b1, c5b);
            ai = Vector512.Create(a[6]); c6a = Vector512.FusedMultiplyAdd(ai, b0, c6a); c6b = Vector512.FusedMultiplyAdd(ai, b1, c6b);
            ai = Vector512.Create(a[7]); c7a = Vector512.FusedMultiplyAdd(ai, b0, c7a); c7b = Vector512.FusedMultiplyAdd(ai, b1, c7b);
            ai = Vector512.Create(a[8]); c8a = Vector512.FusedMultiplyAdd(ai, b0, c8a); c8b = Vector512.FusedMultiplyAdd(ai, b1, c8b);
            ai = Vector512.Create(a[9]); c9a = Vector512.FusedMultiplyAdd(ai, b0, c9a); c9b = Vector512.FusedMultiplyAdd(ai, b1, c9b);
            ai = Vector512.Create(a[10]); c10a = Vector512.FusedMultiplyAdd(ai, b0, c10a); c10b = Vector512.FusedMultiplyAdd(ai, b1, c10b);
            ai = Vector512.Create(a[11]); c11a = Vector512.FusedMultiplyAdd(ai, b0, c11a); c11b = Vector512.FusedMultiplyAdd(ai, b1, c11b);
            a += 12;
            b += 32;
        }
        for (int r = 0; r < 12; r++) { Sse.Prefetch0(c + r * ldc); Sse.Prefetch0(c + r * ldc + 16); }
        for (; tail > 0; tail--)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Sse.Prefetch0(b + 256); Sse.Prefetch0(b + 272); // B streams from L2: 8 k steps ahead
            Vector512<float> ai;
            ai = Vector512.Create(a[0]); c0a = Vector512.FusedMultiplyAdd(ai, b0, c0a); c0b = Vector512.FusedMultiplyAdd(ai, b1, c0b);
            ai = Vector512.Create(a[1]); c1a = Vector512.FusedMultiplyAdd(ai, b0, c1a); c1b = Vector512.FusedMultiplyAdd(ai, b1, c1b);
            ai = Vector512.Create(a[2]); c2a = Vector512.FusedMultiplyAdd(ai, b0, c2a); c2b = Vector512.FusedMultiplyAdd(ai, b1, c2b);
            ai = Vector512.Create(a[3]); c3a = Vector512.FusedMultiplyAdd(ai, b0, c3a); c3b = Vector512.FusedMultiplyAdd(ai, b1, c3b);
            ai = Vector512.Create(a[4]); c4a = Vector512.FusedMultiplyAdd(ai, b0, c4a); c4b = Vector512.FusedMultiplyAdd(ai, b1, c4b);
            ai = Vector512.Create(a[5]); c5a = Vector512.FusedMultiplyAdd(ai, b0, c5a); c5b = Vector512.FusedMultiplyAdd(ai, b1, c5b);
            ai = Vector512.Create(a[6]); c6a = Vector512.FusedMultiplyAdd(ai, b0, c6a); c6b = Vector512.FusedMultiplyAdd(ai, b1, c6b);
            ai = Vector512.Create(a[7]); c7a = Vector512.FusedMultiplyAdd(ai, b0, c7a); c7b = Vector512.FusedMultiplyAdd(ai, b1, c7b);
            ai = Vector512.Create(a[8]); c8a = Vector512.FusedMultiplyAdd(ai, b0, c8a); c8b = Vector512.FusedMultiplyAdd(ai, b1, c8b);
            ai = Vector512.Create(a[9]); c9a = Vector512.FusedMultiplyAdd(ai, b0, c9a); c9b = Vector512.FusedMultiplyAdd(ai, b1, c9b);
            ai = Vector512.Create(a[10]); c10a = Vector512.FusedMultiplyAdd(ai, b0, c10a); c10b = Vector512.FusedMultiplyAdd(ai, b1, c10b);
            ai = Vector512.Create(a[11]); c11a = Vector512.FusedMultiplyAdd(ai, b0, c11a); c11b = Vector512.FusedMultiplyAdd(ai, b1, c11b);
            a += 12;
            b += 32;
        }
        if (add)
        {
            Add(c + 0 * ldc, c0a, c0b);
            Add(c + 1 * ldc, c1a, c1b);
            Add(c + 2 * ldc, c2a, c2b);
            Add(c + 3 * ldc, c3a, c3b);
            Add(c + 4 * ldc, c4a, c4b);
            Add(c + 5 * ldc, c5a, c5b);
            Add(c + 6 * ldc, c6a, c6b);
            Add(c + 7 * ldc, c7a, c7b);
            Add(c + 8 * ldc, c8a, c8b);
            Add(c + 9 * ldc, c9a, c9b);
            Add(c + 10 * ldc, c10a, c10b);
            Add(c + 11 * ldc, c11a, c11b);
        }
        else
        {
            Set(c + 0 * ldc, c0a, c0b);
            Set(c + 1 * ldc, c1a, c1b);
            Set(c + 2 * ldc, c2a, c2b);
            Set(c + 3 * ldc, c3a, c3b);
            Set(c + 4 * ldc, c4a, c4b);
            Set(c + 5 * ldc, c5a, c5b);
            Set(c + 6 * ldc, c6a, c6b);
            Set(c + 7 * ldc, c7a, c7b);
            Set(c + 8 * ldc, c8a, c8b);
            Set(c + 9 * ldc, c9a, c9b);
            Set(c + 10 * ldc, c10a, c10b);
            Set(c + 11 * ldc, c11a, c11b);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* row, Vector512<float> lo, Vector512<float> hi)
    {
        Vector512.Store(Vector512.Load(row) + lo, row);
        Vector512.Store(Vector512.Load(row + 16) + hi, row + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set(float* row, Vector512<float> lo, Vector512<float> hi)
    {
        Vector512.Store(lo, row);
        Vector512.Store(hi, row + 16);
    }
}
