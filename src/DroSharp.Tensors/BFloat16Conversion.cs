using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

/// <summary>
/// float32 ↔ bfloat16 bits. bfloat16 is the top half of a float32 (sign, 8 exponent bits, 7
/// mantissa bits), so widening is a shift left by 16 and exact. Narrowing rounds to nearest, ties
/// to even, as PyTorch's <c>c10::BFloat16</c>: (bits + 0x7FFF + lsb(bits ≫ 16)) ≫ 16, so finite
/// values past the largest bfloat16 round to ±inf and every NaN becomes the quiet NaN 0x7FC0.
/// The bulk forms use the SIMD width <see cref="KernelDispatch.Level"/> allows and give the same
/// bits at every level.
/// </summary>
public static class BFloat16Conversion
{
    /// <summary>The quiet NaN PyTorch produces for every NaN it narrows to bfloat16.</summary>
    public const ushort QuietNaN = 0x7FC0;

    /// <summary>The float32 whose top half is <paramref name="bits"/> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>The nearest bfloat16 to <paramref name="value"/>, ties to even; NaN → <see cref="QuietNaN"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float value)
    {
        if (float.IsNaN(value)) return QuietNaN;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>destination[i] = <see cref="FromSingle"/>(source[i]).</summary>
    public static void Narrow(ReadOnlySpan<float> source, Span<ushort> destination) =>
        Narrow(source, destination, KernelDispatch.Level);

    /// <summary><see cref="Narrow(ReadOnlySpan{float},Span{ushort})"/> at an explicit SIMD level (tests).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Narrow(ReadOnlySpan<float> source, Span<ushort> destination, SimdLevel level)
    {
        if (destination.Length != source.Length)
            throw new ArgumentException($"bfloat16 narrowing of {source.Length} values into {destination.Length}", nameof(destination));
        level = (SimdLevel)Math.Min((int)level, (int)KernelDispatch.Hardware);
        int n = source.Length, i = 0;
        fixed (float* sf = source)
        fixed (ushort* d = destination)
        {
            uint* s = (uint*)sf;
            if (level >= SimdLevel.Vector512)
            {
                for (; i + 32 <= n; i += 32)
                    Vector512.Narrow(Round(Vector512.Load(s + i)), Round(Vector512.Load(s + i + 16))).Store(d + i);
            }
            if (level >= SimdLevel.Vector256)
            {
                for (; i + 16 <= n; i += 16)
                    Vector256.Narrow(Round(Vector256.Load(s + i)), Round(Vector256.Load(s + i + 8))).Store(d + i);
            }
            for (; i < n; i++) d[i] = FromSingle(sf[i]);
        }
    }

    /// <summary>destination[i] = <see cref="ToSingle"/>(source[i]).</summary>
    public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination) =>
        Widen(source, destination, KernelDispatch.Level);

    /// <summary><see cref="Widen(ReadOnlySpan{ushort},Span{float})"/> at an explicit SIMD level (tests).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Widen(ReadOnlySpan<ushort> source, Span<float> destination, SimdLevel level)
    {
        if (destination.Length != source.Length)
            throw new ArgumentException($"bfloat16 widening of {source.Length} values into {destination.Length}", nameof(destination));
        level = (SimdLevel)Math.Min((int)level, (int)KernelDispatch.Hardware);
        fixed (ushort* s = source)
        fixed (float* d = destination)
            WidenRow(s, d, source.Length, level);
    }

    /// <summary>d[x] = widen(s[x]) for x &lt; count, with the widest vectors <paramref name="level"/> allows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void WidenRow(ushort* s, float* d, int count, SimdLevel level)
    {
        int x = 0;
        if (level >= SimdLevel.Vector512)
        {
            // 32 bf16 → two 16-lane u32 (zero-extended) → ≪ 16.
            for (; x + 32 <= count; x += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(s + x));
                Vector512.ShiftLeft(lo, 16).AsSingle().Store(d + x);
                Vector512.ShiftLeft(hi, 16).AsSingle().Store(d + x + 16);
            }
        }
        if (level >= SimdLevel.Vector256)
        {
            for (; x + 16 <= count; x += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(s + x));
                Vector256.ShiftLeft(lo, 16).AsSingle().Store(d + x);
                Vector256.ShiftLeft(hi, 16).AsSingle().Store(d + x + 8);
            }
            if (x + 8 <= count)
            {
                var (lo, hi) = Vector128.Widen(Vector128.Load(s + x));
                Vector128.ShiftLeft(lo, 16).AsSingle().Store(d + x);
                Vector128.ShiftLeft(hi, 16).AsSingle().Store(d + x + 4);
                x += 8;
            }
        }
        for (; x < count; x++) ((uint*)d)[x] = (uint)s[x] << 16;
    }

    // Lanes of float bits → bf16 bits in the low half: (bits + 0x7FFF + lsb) ≫ 16, NaN → 0x7FC0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Round(Vector512<uint> bits)
    {
        var lsb = Vector512.ShiftRightLogical(bits, 16) & Vector512<uint>.One;
        var rounded = Vector512.ShiftRightLogical(bits + Vector512.Create(0x7FFFu) + lsb, 16);
        var f = bits.AsSingle();
        return Vector512.ConditionalSelect(Vector512.Equals(f, f).AsUInt32(), rounded, Vector512.Create((uint)QuietNaN));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Round(Vector256<uint> bits)
    {
        var lsb = Vector256.ShiftRightLogical(bits, 16) & Vector256<uint>.One;
        var rounded = Vector256.ShiftRightLogical(bits + Vector256.Create(0x7FFFu) + lsb, 16);
        var f = bits.AsSingle();
        return Vector256.ConditionalSelect(Vector256.Equals(f, f).AsUInt32(), rounded, Vector256.Create((uint)QuietNaN));
    }
}
