using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// AVX2 micro-kernel for CPUs without AVX-512: a 6×16 tile of C in 12 ymm accumulators (the
/// classic layout that fits the 16 ymm registers: 12 accumulators, 2 B vectors, 1 broadcast).
/// Without hardware FMA it multiplies and adds separately.
/// </summary>
internal readonly unsafe struct GemmMicroKernel256 : IGemmMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;
    public static SimdLevel Level => SimdLevel.Vector256;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, bool add)
    {
        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector256<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> ai;
            ai = Vector256.Create(a[0]); c0a = Fmadd(ai, b0, c0a); c0b = Fmadd(ai, b1, c0b);
            ai = Vector256.Create(a[1]); c1a = Fmadd(ai, b0, c1a); c1b = Fmadd(ai, b1, c1b);
            ai = Vector256.Create(a[2]); c2a = Fmadd(ai, b0, c2a); c2b = Fmadd(ai, b1, c2b);
            ai = Vector256.Create(a[3]); c3a = Fmadd(ai, b0, c3a); c3b = Fmadd(ai, b1, c3b);
            ai = Vector256.Create(a[4]); c4a = Fmadd(ai, b0, c4a); c4b = Fmadd(ai, b1, c4b);
            ai = Vector256.Create(a[5]); c5a = Fmadd(ai, b0, c5a); c5b = Fmadd(ai, b1, c5b);
            a += 6;
            b += 16;
        }
        if (add)
        {
            Add(c + 0 * ldc, c0a, c0b);
            Add(c + 1 * ldc, c1a, c1b);
            Add(c + 2 * ldc, c2a, c2b);
            Add(c + 3 * ldc, c3a, c3b);
            Add(c + 4 * ldc, c4a, c4b);
            Add(c + 5 * ldc, c5a, c5b);
        }
        else
        {
            Set(c + 0 * ldc, c0a, c0b);
            Set(c + 1 * ldc, c1a, c1b);
            Set(c + 2 * ldc, c2a, c2b);
            Set(c + 3 * ldc, c3a, c3b);
            Set(c + 4 * ldc, c4a, c4b);
            Set(c + 5 * ldc, c5a, c5b);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fmadd(Vector256<float> x, Vector256<float> y, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : x * y + acc;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* row, Vector256<float> lo, Vector256<float> hi)
    {
        Vector256.Store(Vector256.Load(row) + lo, row);
        Vector256.Store(Vector256.Load(row + 8) + hi, row + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Set(float* row, Vector256<float> lo, Vector256<float> hi)
    {
        Vector256.Store(lo, row);
        Vector256.Store(hi, row + 8);
    }
}
