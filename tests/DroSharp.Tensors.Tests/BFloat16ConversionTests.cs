using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

/// <summary>
/// float32 → bfloat16 rounding against an exact reference (the nearer of the two neighbouring
/// bfloat16 values, compared in double; ties to the even one; past the largest finite bfloat16
/// the upper neighbour is 2¹²⁸ = inf), on random bit patterns of every exponent and on the edge
/// cases; the bulk forms at every SIMD level against the scalar rule; widening is exact.
/// </summary>
public class BFloat16ConversionTests
{
    /// <summary>Round to nearest even by comparing distances, independent of the bit trick under test.</summary>
    private static ushort ReferenceNarrow(float f)
    {
        if (float.IsNaN(f)) return BFloat16Conversion.QuietNaN;
        if (float.IsInfinity(f)) return f > 0 ? (ushort)0x7F80 : (ushort)0xFF80;
        uint bits = BitConverter.SingleToUInt32Bits(f);
        uint sign = bits & 0x8000_0000u;
        uint magnitude = bits & 0x7FFF_FFFFu;
        uint lower = magnitude >> 16, upper = lower + 1; // bfloat16 magnitudes just below / above
        double x = BitConverter.UInt32BitsToSingle(magnitude);
        double lo = BitConverter.UInt32BitsToSingle(lower << 16);
        double hi = upper == 0x7F80 ? Math.Pow(2, 128) : BitConverter.UInt32BitsToSingle(upper << 16);
        double dLo = x - lo, dHi = hi - x;
        uint chosen = dLo < dHi ? lower : dHi < dLo ? upper : (lower & 1) == 0 ? lower : upper;
        return (ushort)((sign >> 16) | chosen);
    }

    private static readonly uint[] EdgeBits =
    [
        0x0000_0000, 0x8000_0000,             // ±0
        0x7F80_0000, 0xFF80_0000,             // ±inf
        0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0xFFFF_FFFF, 0x7FBF_FFFF, // NaNs: quiet, negative, signalling, payloads
        0x0000_0001, 0x0000_8000, 0x0000_8001, 0x0001_8000, 0x807F_FFFF, // subnormals, incl. ties
        0x3F80_8000, 0x3F81_8000, 0x3F80_8001, 0x3F80_7FFF, // ties to even down and up, just above and below a tie
        0x7F7F_7FFF, 0x7F7F_8000, 0x7F7F_FFFF, 0xFF7F_8000, // largest finite bf16 and the ties past it (→ ±inf)
        0x3F7F_FFFF, 0x4049_0FDB, 0xC2F6_E979,
    ];

    [Fact]
    public void NarrowMatchesTheNearestEvenReference()
    {
        var rng = new Random(11);
        var bits = new List<uint>(EdgeBits);
        for (int i = 0; i < 200_000; i++) bits.Add((uint)rng.NextInt64(0, 1L << 32));
        foreach (uint b in bits)
        {
            float f = BitConverter.UInt32BitsToSingle(b);
            ushort want = ReferenceNarrow(f), got = BFloat16Conversion.FromSingle(f);
            if (want != got) Assert.Fail($"0x{b:X8} ({f:G9}): 0x{got:X4}, reference 0x{want:X4}");
        }
    }

    [Fact]
    public void EdgeCasesFollowPyTorch()
    {
        // The values c10::BFloat16 gives (round_to_nearest_even): NaN is canonicalised, overflow is inf.
        Assert.Equal(0x7FC0, BFloat16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0xFFC0_0001)));
        Assert.Equal(0x7F80, BFloat16Conversion.FromSingle(float.MaxValue));
        Assert.Equal(0xFF80, BFloat16Conversion.FromSingle(-float.MaxValue));
        Assert.Equal(0x3F80, BFloat16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0x3F80_8000)));
        Assert.Equal(0x3F82, BFloat16Conversion.FromSingle(BitConverter.UInt32BitsToSingle(0x3F81_8000)));
        Assert.Equal(0x8000, BFloat16Conversion.FromSingle(-0f));
    }

    [Fact]
    public void WideningIsExactAndInvertsNarrowing()
    {
        for (int b = 0; b <= ushort.MaxValue; b++)
        {
            float f = BFloat16Conversion.ToSingle((ushort)b);
            Assert.Equal((uint)b << 16, BitConverter.SingleToUInt32Bits(f));
            if (!float.IsNaN(f)) Assert.Equal(b, BFloat16Conversion.FromSingle(f));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(57)]
    [InlineData(1001)]
    public void BulkFormsMatchTheScalarRuleAtEveryLevel(int n)
    {
        var rng = new Random(n + 3);
        var source = new float[n];
        for (int i = 0; i < n; i++)
            source[i] = i < EdgeBits.Length && i % 2 == 1
                ? BitConverter.UInt32BitsToSingle(EdgeBits[i])
                : BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));
        var bits = new ushort[n];
        for (int i = 0; i < n; i++) bits[i] = (ushort)rng.Next(1 << 16);

        foreach (var level in TestUtil.Levels)
        {
            if (level > KernelDispatch.Hardware) continue;
            var narrowed = new ushort[n];
            BFloat16Conversion.Narrow(source, narrowed, level);
            for (int i = 0; i < n; i++)
                if (narrowed[i] != BFloat16Conversion.FromSingle(source[i]))
                    Assert.Fail($"{level} narrow [{i}] 0x{BitConverter.SingleToUInt32Bits(source[i]):X8}: 0x{narrowed[i]:X4}, scalar 0x{BFloat16Conversion.FromSingle(source[i]):X4}");

            var widened = new float[n];
            widened.AsSpan().Fill(1.5f);
            BFloat16Conversion.Widen(bits, widened, level);
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToUInt32Bits(widened[i]) == (uint)bits[i] << 16, $"{level} widen [{i}]");
        }
    }

    [Fact]
    public void BulkFormsRejectMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() => BFloat16Conversion.Narrow(new float[3], new ushort[2]));
        Assert.Throws<ArgumentException>(() => BFloat16Conversion.Widen(new ushort[3], new float[4]));
    }
}
