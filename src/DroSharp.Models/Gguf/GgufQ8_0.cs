using System.Buffers.Binary;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.Gguf;

/// <summary>
/// ggml's Q8_0: blocks of 32 values stored as an f16 scale d and 32 signed bytes q, value ≈ d·q.
/// Quantization is ggml's <c>quantize_row_q8_0_ref</c> bit for bit: amax = max|x|, d = amax/127 (float32),
/// id = d ≠ 0 ? 1/d : 0, q = roundf(x·id) (half away from zero), and d stored as f16 rounded to nearest even.
/// Since q uses the float32 d and not its f16 rounding, |x − f16(d)·q| ≤ d/2 + 127·|d − f16(d)| ≤ amax·(1/254 + 2⁻¹¹)
/// for normal-range d.
/// </summary>
public static class GgufQ8_0
{
    public const int BlockSize = 32;
    public const int BlockBytes = 34;

    /// <summary>Quantizes <paramref name="source"/> (a multiple of 32 values) into 34-byte blocks.</summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (source.Length % BlockSize != 0)
            throw new ArgumentException($"Q8_0 needs a multiple of {BlockSize} values, got {source.Length}", nameof(source));
        int blocks = source.Length / BlockSize;
        if (destination.Length != blocks * BlockBytes)
            throw new ArgumentException($"{blocks} Q8_0 blocks need {blocks * BlockBytes} bytes, destination has {destination.Length}", nameof(destination));
        for (int b = 0; b < blocks; b++)
        {
            var x = source.Slice(b * BlockSize, BlockSize);
            var y = destination.Slice(b * BlockBytes, BlockBytes);
            float amax = 0f;
            for (int j = 0; j < BlockSize; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(y, FloatConversions.SingleToHalf(d));
            for (int j = 0; j < BlockSize; j++)
                y[2 + j] = unchecked((byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
        }
    }

    /// <summary>d·q for every element of the 34-byte blocks in <paramref name="source"/>.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length % BlockBytes != 0)
            throw new ArgumentException($"Q8_0 data must be whole {BlockBytes}-byte blocks, got {source.Length} bytes", nameof(source));
        int blocks = source.Length / BlockBytes;
        if (destination.Length != blocks * BlockSize)
            throw new ArgumentException($"{blocks} Q8_0 blocks hold {blocks * BlockSize} values, destination has {destination.Length}", nameof(destination));
        for (int b = 0; b < blocks; b++)
        {
            var y = source.Slice(b * BlockBytes, BlockBytes);
            float d = FloatConversions.HalfToSingle(BinaryPrimitives.ReadUInt16LittleEndian(y));
            var x = destination.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < BlockSize; j++) x[j] = d * (sbyte)y[2 + j];
        }
    }
}
