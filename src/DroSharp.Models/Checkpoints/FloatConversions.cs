using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// Conversions between float32 and the 16-bit float formats of checkpoints, and from
/// little-endian byte buffers. Widening is exact; narrowing rounds to nearest, ties to even.
/// The bulk forms are compiled fully optimised up front (a checkpoint is converted once, in a
/// few long calls, before tiered compilation would have warmed them up).
/// </summary>
public static class FloatConversions
{
    /// <summary>The quiet NaN PyTorch produces for every NaN it narrows to bfloat16.</summary>
    public const ushort BFloat16QuietNaN = 0x7FC0;

    /// <summary>bfloat16 is the top half of a float32: widening is a shift.</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>
    /// Rounds to nearest even on the 16 dropped bits, as PyTorch's <c>c10::BFloat16</c>:
    /// bits + 0x7FFF + lsb(bits >> 16), then >> 16. Overflow rounds to ±inf; NaN becomes 0x7FC0.
    /// </summary>
    public static ushort SingleToBFloat16(float value)
    {
        if (float.IsNaN(value)) return BFloat16QuietNaN;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint lsb = (bits >> 16) & 1;
        return (ushort)((bits + 0x7FFFu + lsb) >> 16);
    }

    public static float HalfToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>IEEE binary16 with round to nearest even (subnormals kept, overflow to ±inf).</summary>
    public static ushort SingleToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>source: little-endian F32 bytes, 4 per element of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FromF32(ReadOnlySpan<byte> source, Span<float> destination)
    {
        CheckLength(source, destination.Length, 4);
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
            return;
        }
        for (int i = 0; i < destination.Length; i++)
            destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(4 * i, 4));
    }

    /// <summary>source: little-endian BF16 bytes, 2 per element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FromBF16(ReadOnlySpan<byte> source, Span<float> destination)
    {
        CheckLength(source, destination.Length, 2);
        int i = 0;
        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
        {
            // 16 bf16 → widen to 2×8 u32 → << 16 → reinterpret as float.
            var src = MemoryMarshal.Cast<byte, ushort>(source);
            var dst = MemoryMarshal.Cast<float, uint>(destination);
            for (; i <= src.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create<ushort>(src[i..]));
                Vector256.ShiftLeft(lo, 16).CopyTo(dst[i..]);
                Vector256.ShiftLeft(hi, 16).CopyTo(dst[(i + Vector256<uint>.Count)..]);
            }
        }
        for (; i < destination.Length; i++)
            destination[i] = BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i, 2)));
    }

    /// <summary>source: little-endian F16 bytes, 2 per element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FromF16(ReadOnlySpan<byte> source, Span<float> destination)
    {
        CheckLength(source, destination.Length, 2);
        int i = 0;
        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
        {
            // |h| << 13 puts the 5+10 exponent/mantissa bits under float's; as a float that is
            // |h|·2^-112 for normal and subnormal h alike, so one multiply by 2^112 is exact.
            // Inf/NaN (exponent 31) get float's all-ones exponent instead, payload kept.
            var src = MemoryMarshal.Cast<byte, ushort>(source);
            var dst = MemoryMarshal.Cast<float, uint>(destination);
            for (; i <= src.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create<ushort>(src[i..]));
                HalfBitsToSingleBits(lo).CopyTo(dst[i..]);
                HalfBitsToSingleBits(hi).CopyTo(dst[(i + Vector256<uint>.Count)..]);
            }
        }
        for (; i < destination.Length; i++)
            destination[i] = HalfToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i, 2)));
    }

    private static readonly float TwoPow112 = BitConverter.UInt32BitsToSingle((127 + 112) << 23);

    private static Vector256<uint> HalfBitsToSingleBits(Vector256<uint> h)
    {
        var sign = Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16);
        var magnitude = h & Vector256.Create(0x7FFFu);
        var shifted = Vector256.ShiftLeft(magnitude, 13);
        var finite = (shifted.AsSingle() * Vector256.Create(TwoPow112)).AsUInt32();
        var special = shifted | Vector256.Create(0x7F800000u);
        var isSpecial = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u));
        return sign | Vector256.ConditionalSelect(isSpecial, special, finite);
    }

    /// <summary>source: little-endian F64 bytes, 8 per element; each value rounded to nearest float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FromF64(ReadOnlySpan<byte> source, Span<float> destination)
    {
        CheckLength(source, destination.Length, 8);
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source.Slice(8 * i, 8));
    }

    /// <summary>destination: little-endian F32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToF32(ReadOnlySpan<float> source, Span<byte> destination)
    {
        CheckLength(destination, source.Length, 4);
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(source).CopyTo(destination);
            return;
        }
        for (int i = 0; i < source.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(destination.Slice(4 * i, 4), source[i]);
    }

    /// <summary>destination: little-endian BF16 bytes, rounded to nearest even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToBF16(ReadOnlySpan<float> source, Span<byte> destination)
    {
        CheckLength(destination, source.Length, 2);
        int i = 0;
        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
        {
            // The scalar rule on 2×8 lanes, then a truncating narrow to 16 u16.
            var src = MemoryMarshal.Cast<float, uint>(source);
            var dst = MemoryMarshal.Cast<byte, ushort>(destination);
            for (; i <= src.Length - 2 * Vector256<uint>.Count; i += 2 * Vector256<uint>.Count)
            {
                var lo = RoundToBFloat16(Vector256.Create<uint>(src[i..]));
                var hi = RoundToBFloat16(Vector256.Create<uint>(src[(i + Vector256<uint>.Count)..]));
                Vector256.Narrow(lo, hi).CopyTo(dst[i..]);
            }
        }
        for (; i < source.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(2 * i, 2), SingleToBFloat16(source[i]));
    }

    /// <summary>Lanes of float bits → bf16 bits in the low half: (bits + 0x7FFF + lsb) >> 16, NaN → 0x7FC0.</summary>
    private static Vector256<uint> RoundToBFloat16(Vector256<uint> bits)
    {
        var lsb = Vector256.ShiftRightLogical(bits, 16) & Vector256<uint>.One;
        var rounded = Vector256.ShiftRightLogical(bits + Vector256.Create(0x7FFFu) + lsb, 16);
        var f = bits.AsSingle();
        var isNaN = Vector256.Equals(f, f).AsUInt32() ^ Vector256<uint>.AllBitsSet;
        return Vector256.ConditionalSelect(isNaN, Vector256.Create((uint)BFloat16QuietNaN), rounded);
    }

    /// <summary>destination: little-endian F16 bytes, rounded to nearest even.</summary>
    public static void ToF16(ReadOnlySpan<float> source, Span<byte> destination)
    {
        CheckLength(destination, source.Length, 2);
        if (BitConverter.IsLittleEndian)
        {
            TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination));
            return;
        }
        for (int i = 0; i < source.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(2 * i, 2), SingleToHalf(source[i]));
    }

    private static void CheckLength(ReadOnlySpan<byte> bytes, int elements, int size)
    {
        if (bytes.Length != (long)elements * size)
            throw new ArgumentException($"{bytes.Length} bytes for {elements} elements of {size} bytes");
    }
}
