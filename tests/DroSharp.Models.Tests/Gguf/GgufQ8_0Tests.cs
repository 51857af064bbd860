using System.Buffers.Binary;
using DroSharp.Models.Gguf;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>Q8_0 against a line-by-line transcription of ggml's quantize_row_q8_0_ref, and its error bound.</summary>
public sealed class GgufQ8_0Tests
{
    /// <summary>ggml-quants.c quantize_row_q8_0_ref, with C's roundf and ggml's scalar fp32→fp16 (FP16 library bit trick).</summary>
    private static byte[] Reference(float[] x)
    {
        int nb = x.Length / 32;
        var y = new byte[nb * 34];
        for (int i = 0; i < nb; i++)
        {
            float amax = 0.0f;
            for (int j = 0; j < 32; j++)
            {
                float v = x[i * 32 + j];
                float a = MathF.Abs(v);
                amax = amax > a ? amax : a; // MAX(amax, fabsf(v))
            }
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            BinaryPrimitives.WriteUInt16LittleEndian(y.AsSpan(i * 34), Fp32ToFp16(d));
            for (int j = 0; j < 32; ++j)
            {
                float x0 = x[i * 32 + j] * id;
                y[i * 34 + 2 + j] = unchecked((byte)(sbyte)RoundF(x0));
            }
        }
        return y;
    }

    /// <summary>C roundf: half-way cases away from zero.</summary>
    private static float RoundF(float v)
    {
        float t = MathF.Truncate(v);
        return MathF.Abs(v - t) >= 0.5f ? t + MathF.Sign(v) : t;
    }

    /// <summary>ggml_compute_fp32_to_fp16 (ggml-impl.h), transcribed.</summary>
    private static ushort Fp32ToFp16(float f)
    {
        float scaleToInf = BitConverter.UInt32BitsToSingle(0x77800000); // 0x1.0p+112f
        float scaleToZero = BitConverter.UInt32BitsToSingle(0x08800000); // 0x1.0p-110f
        float bas = MathF.Abs(f) * scaleToInf * scaleToZero;
        uint w = BitConverter.SingleToUInt32Bits(f);
        uint shl1W = w + w;
        uint sign = w & 0x80000000u;
        uint bias = shl1W & 0xFF000000u;
        if (bias < 0x71000000u) bias = 0x71000000u;
        bas = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000u) + bas;
        uint bits = BitConverter.SingleToUInt32Bits(bas);
        uint expBits = (bits >> 13) & 0x00007C00u;
        uint mantissaBits = bits & 0x00000FFFu;
        uint nonsign = expBits + mantissaBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF000000u ? 0x7E00u : nonsign));
    }

    public static TheoryData<int, double> Cases => new() { { 1, 1.0 }, { 7, 0.01 }, { 33, 300.0 }, { 129, 1e-6 }, { 2, 6e-5 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesGgmlReferenceBitForBit(int blocks, double scale)
    {
        var rng = new Random(blocks);
        var x = new float[blocks * 32];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        // Exact ties of x·id at .5 (amax = 127 makes id = 1), zeros, a zero block and signed zeros.
        x[0] = 127f; x[1] = 2.5f; x[2] = -2.5f; x[3] = -0.5f; x[4] = 0.5f; x[5] = -0f;
        if (blocks > 1) Array.Clear(x, 32, 32);
        var actual = new byte[blocks * 34];
        GgufQ8_0.Quantize(x, actual);
        Assert.Equal(Reference(x), actual);
        if (scale < 127)
        {
            // amax = 127 in block 0, so d = 1 and the ties are exact.
            Assert.Equal(3, (sbyte)actual[2 + 1]);   // roundf(2.5) = 3, not banker's 2
            Assert.Equal(-3, (sbyte)actual[2 + 2]);  // roundf(-2.5) = -3
            Assert.Equal(-1, (sbyte)actual[2 + 3]);
        }
    }

    [Fact]
    public void HalfConversionAgreesWithGgmlEverywhereItMatters()
    {
        // The f16 scale: every finite float's rounding agrees with ggml's bit trick (checked on a dense sample).
        var rng = new Random(5);
        for (int i = 0; i < 200_000; i++)
        {
            float f = BitConverter.Int32BitsToSingle(rng.Next() & 0x7FFFFFFF);
            if (!float.IsFinite(f)) continue;
            Assert.Equal(Fp32ToFp16(f), BitConverter.HalfToUInt16Bits((Half)f));
        }
    }

    [Fact]
    public void DequantizationErrorIsWithinTheBound()
    {
        var rng = new Random(9);
        var x = new float[64 * 32];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * (1 + i / 32);
        var q = new byte[64 * 34];
        GgufQ8_0.Quantize(x, q);
        var y = new float[x.Length];
        GgufQ8_0.Dequantize(q, y);
        for (int b = 0; b < 64; b++)
        {
            double amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.Max(amax, Math.Abs(x[b * 32 + j]));
            // |x − f16(d)·q| ≤ d/2 + 127·|d − f16(d)| ≤ amax·(1/254 + 2^-11)
            double bound = amax * (1.0 / 254 + Math.Pow(2, -11)) + 1e-12;
            for (int j = 0; j < 32; j++) Assert.True(Math.Abs(x[b * 32 + j] - y[b * 32 + j]) <= bound, $"block {b} element {j}");
        }
    }

    [Fact]
    public void RejectsPartialBlocks()
    {
        Assert.Throws<ArgumentException>(() => GgufQ8_0.Quantize(new float[33], new byte[68]));
        Assert.Throws<ArgumentException>(() => GgufQ8_0.Quantize(new float[32], new byte[33]));
        Assert.Throws<ArgumentException>(() => GgufQ8_0.Dequantize(new byte[35], new float[32]));
    }
}
