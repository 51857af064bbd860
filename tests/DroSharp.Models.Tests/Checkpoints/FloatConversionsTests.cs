using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.Tests.Checkpoints;

/// <summary>
/// Narrowing is checked against an independent reference: the value of every 16-bit pattern
/// computed in double, and "nearest representable, ties to the even pattern" found by search.
/// </summary>
public sealed class FloatConversionsTests
{
    /// <summary>binary16: sign, 5-bit exponent (bias 15), 10-bit mantissa.</summary>
    public static double HalfValue(ushort bits) => Decode(bits, exponentBits: 5, mantissaBits: 10);

    /// <summary>bfloat16: sign, 8-bit exponent (bias 127), 7-bit mantissa.</summary>
    public static double BFloat16Value(ushort bits) => Decode(bits, exponentBits: 8, mantissaBits: 7);

    private static double Decode(ushort bits, int exponentBits, int mantissaBits)
    {
        int maxExp = (1 << exponentBits) - 1;
        int bias = maxExp / 2;
        int e = (bits >> mantissaBits) & maxExp;
        int m = bits & ((1 << mantissaBits) - 1);
        double sign = (bits & 0x8000) != 0 ? -1 : 1;
        if (e == maxExp) return m == 0 ? sign * double.PositiveInfinity : double.NaN;
        return sign * Magnitude(e, m, bias, mantissaBits);
    }

    // Also used for the pattern just past the largest finite one (which is +inf's pattern): 2^(emax+1).
    private static double Magnitude(int e, int m, int bias, int mantissaBits) => e == 0
        ? m * Math.Pow(2, 1 - bias - mantissaBits)
        : ((1 << mantissaBits) + m) * Math.Pow(2, e - bias - mantissaBits);

    /// <summary>Round-to-nearest-even by search over all non-negative patterns.</summary>
    private static ushort ReferenceNarrow(float x, int exponentBits, int mantissaBits)
    {
        int maxExp = (1 << exponentBits) - 1;
        int bias = maxExp / 2;
        ushort sign = (ushort)(float.IsNegative(x) ? 0x8000 : 0);
        double a = Math.Abs((double)x);
        int infBits = maxExp << mantissaBits;
        double Value(int b) => Magnitude(b >> mantissaBits, b & ((1 << mantissaBits) - 1), bias, mantissaBits);
        if (double.IsInfinity(a) || a >= Value(infBits)) return (ushort)(sign | infBits);
        // Largest pattern with value ≤ a (patterns of non-negative values increase with their value).
        int lo = 0, hi = infBits; // Value(lo) ≤ a < Value(hi)
        while (hi - lo > 1)
        {
            int mid = (lo + hi) / 2;
            if (Value(mid) <= a) lo = mid; else hi = mid;
        }
        double below = a - Value(lo), above = Value(hi) - a;
        int pick = below < above ? lo : above < below ? hi : (lo % 2 == 0 ? lo : hi);
        return (ushort)(sign | pick);
    }

    private static IEnumerable<float> Samples()
    {
        var rng = new Random(2024);
        var buf = new byte[4];
        for (int i = 0; i < 100_000; i++)
        {
            rng.NextBytes(buf);
            float f = BitConverter.ToSingle(buf);
            if (!float.IsNaN(f)) yield return f;
        }
        // Exact ties and their neighbours, at both parities, around every BF16 exponent.
        for (uint e = 0; e < 255; e++)
        {
            foreach (uint mant in new uint[] { 0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x18000, 0x17FFF, 0x7F8000, 0x7FFFFF })
            {
                uint bits = (e << 23) | (mant & 0x7FFFFF);
                yield return BitConverter.UInt32BitsToSingle(bits);
                yield return -BitConverter.UInt32BitsToSingle(bits);
            }
        }
        // binary16 landmarks: largest finite (65504), the overflow midpoint (65520), subnormal ties.
        foreach (float f in new[] { 65504f, 65519.998f, 65520f, 65536f, 1e-8f, 2.9802322e-8f, 5.9604645e-8f, 8.940697e-8f,
                     6.1035156e-5f, 6.1035152e-5f, 1f / 3, float.Epsilon, float.MaxValue, float.MinValue, 0f, -0f,
                     float.PositiveInfinity, float.NegativeInfinity, 3.3895314e38f, 3.3961776e38f })
            yield return f;
        // Every half-way point between consecutive binary16 values.
        for (int b = 0; b < 0x7C00; b++)
            yield return (float)((HalfValue((ushort)b) + Magnitude((b + 1) >> 10, (b + 1) & 0x3FF, 15, 10)) / 2);
    }

    [Fact]
    public void SingleToBFloat16RoundsToNearestEven()
    {
        foreach (float f in Samples())
        {
            ushort expected = ReferenceNarrow(f, 8, 7);
            ushort actual = FloatConversions.SingleToBFloat16(f);
            Assert.True(expected == actual, $"{f:R} (0x{BitConverter.SingleToUInt32Bits(f):x8}): expected 0x{expected:x4}, got 0x{actual:x4}");
        }
    }

    [Fact]
    public void SingleToHalfRoundsToNearestEven()
    {
        foreach (float f in Samples())
        {
            ushort expected = ReferenceNarrow(f, 5, 10);
            ushort actual = FloatConversions.SingleToHalf(f);
            Assert.True(expected == actual, $"{f:R} (0x{BitConverter.SingleToUInt32Bits(f):x8}): expected 0x{expected:x4}, got 0x{actual:x4}");
        }
    }

    [Fact]
    public void SpanNarrowingMatchesTheReferenceOnEverySample()
    {
        // The span forms take vectorised paths; feed them the ties, overflow edges and NaNs too.
        float[] nans = [float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F800001), BitConverter.UInt32BitsToSingle(0xFFFFFFFF)];
        // NaNs at the front fall in full vectors, at the end in the scalar tail.
        float[] x = [.. nans, .. nans, .. nans, .. nans, .. nans, .. Samples(), .. nans];
        var bytes = new byte[2 * x.Length];
        FloatConversions.ToBF16(x, bytes);
        for (int i = 0; i < x.Length; i++)
        {
            ushort expected = float.IsNaN(x[i]) ? FloatConversions.BFloat16QuietNaN : ReferenceNarrow(x[i], 8, 7);
            Assert.True(expected == BitConverter.ToUInt16(bytes, 2 * i), $"BF16 of {x[i]:R} at {i}");
        }
        FloatConversions.ToF16(x, bytes);
        for (int i = 0; i < x.Length; i++)
        {
            ushort actual = BitConverter.ToUInt16(bytes, 2 * i);
            if (float.IsNaN(x[i])) Assert.True(double.IsNaN(HalfValue(actual)), $"F16 of NaN at {i}");
            else Assert.True(ReferenceNarrow(x[i], 5, 10) == actual, $"F16 of {x[i]:R} at {i}");
        }
        var back = new float[x.Length];
        FloatConversions.FromF16(bytes, back);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(FloatConversions.HalfToSingle(BitConverter.ToUInt16(bytes, 2 * i))), BitConverter.SingleToUInt32Bits(back[i]));
    }

    [Fact]
    public void NaNStaysNaN()
    {
        foreach (uint bits in new uint[] { 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF, 0xFF800001 })
        {
            float nan = BitConverter.UInt32BitsToSingle(bits);
            Assert.Equal(FloatConversions.BFloat16QuietNaN, FloatConversions.SingleToBFloat16(nan)); // never rounds into inf
            Assert.True(float.IsNaN(FloatConversions.BFloat16ToSingle(FloatConversions.SingleToBFloat16(nan))));
            Assert.True(float.IsNaN(FloatConversions.HalfToSingle(FloatConversions.SingleToHalf(nan))));
        }
    }

    [Fact]
    public void EverySixteenBitValueSurvivesARoundTrip()
    {
        for (int i = 0; i < 65536; i++)
        {
            ushort b = (ushort)i;
            float bf = FloatConversions.BFloat16ToSingle(b);
            float h = FloatConversions.HalfToSingle(b);
            if (float.IsNaN(bf)) Assert.True(double.IsNaN(BFloat16Value(b)));
            else
            {
                Assert.Equal(BFloat16Value(b), bf);
                Assert.Equal(b, FloatConversions.SingleToBFloat16(bf));
            }
            if (float.IsNaN(h)) Assert.True(double.IsNaN(HalfValue(b)));
            else
            {
                Assert.Equal(HalfValue(b), h);
                Assert.Equal(b, FloatConversions.SingleToHalf(h));
            }
        }
    }

    [Fact]
    public void SpanConversionsAgreeWithScalarOnes()
    {
        var rng = new Random(7);
        foreach (int n in new[] { 0, 1, 7, 33, 129, 1000 })
        {
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-9, 9)));
            var bytes = new byte[2 * n];
            var back = new float[n];
            FloatConversions.ToBF16(x, bytes);
            FloatConversions.FromBF16(bytes, back);
            for (int i = 0; i < n; i++) Assert.Equal(FloatConversions.BFloat16ToSingle(FloatConversions.SingleToBFloat16(x[i])), back[i]);
            FloatConversions.ToF16(x, bytes);
            FloatConversions.FromF16(bytes, back);
            for (int i = 0; i < n; i++) Assert.Equal(FloatConversions.HalfToSingle(FloatConversions.SingleToHalf(x[i])), back[i]);
            var b32 = new byte[4 * n];
            FloatConversions.ToF32(x, b32);
            FloatConversions.FromF32(b32, back);
            Assert.Equal(x, back);
        }
    }
}
