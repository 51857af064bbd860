using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Vectorised exp and tanh for the fused kernels (softmax, log-softmax, gelu). The BCL's
/// Vector512.Exp widens to double and is 2–5× slower; this one stays in float:
/// exp(x) = 2ⁿ·eʳ, n = round(x·log₂e), r = x − n·ln2 (Cody–Waite split), eʳ by the Cephes degree-6
/// polynomial. Relative error ≤ 2 ulp on [−87.3, 88]; x &lt; −87.3 (including −∞) gives 0; x is
/// clamped at 88 above (softmax arguments are ≤ 0, tanh only needs saturation).
/// </summary>
internal static class FastMath
{
    private const float ExpHi = 88f;
    private const float ExpLo = -87.33654475f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f;
    private const float P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var xc = Vector512.Max(Vector512.Min(x, Vector512.Create(ExpHi)), Vector512.Create(ExpLo));
        var n = Vector512.Round(xc * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.Create(P0);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        var scale = ((Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpLo)), Vector512<float>.Zero, p * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var xc = Vector256.Max(Vector256.Min(x, Vector256.Create(ExpHi)), Vector256.Create(ExpLo));
        var n = Vector256.Round(xc * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), xc);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.Create(P0);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var scale = ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpLo)), Vector256<float>.Zero, p * scale);
    }

    /// <summary>tanh(x) = 1 − 2/(e^{2x} + 1); absolute error ≤ ~2e-7, saturates to ±1 exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var e = Exp(x + x);
        return Vector512<float>.One - Vector512.Create(2f) / (e + Vector512<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var e = Exp(x + x);
        return Vector256<float>.One - Vector256.Create(2f) / (e + Vector256<float>.One);
    }

    // Cephes tanhf: tanh(x) = x + x³·P(x²) for |x| < 0.625 (relative error ~1e-7 there, where
    // 1 − 2/(e^{2x} + 1) loses digits to cancellation), the exp form above.
    private const float T0 = -5.70498872745E-3f, T1 = 2.06390887954E-2f, T2 = -5.37397155531E-2f;
    private const float T3 = 1.33314422036E-1f, T4 = -3.33332819422E-1f;

    /// <summary>tanh(x) with relative error ≲ 2e-7 also near 0 (soft-capping of logits, where small values matter).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> TanhAccurate(Vector512<float> x)
    {
        var z = x * x;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(T0), z, Vector512.Create(T1));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(T2));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(T3));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(T4));
        var small = Vector512.FusedMultiplyAdd(p * z, x, x);
        return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(0.625f)), small, Tanh(x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> TanhAccurate(Vector256<float> x)
    {
        var z = x * x;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(T0), z, Vector256.Create(T1));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(T2));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(T3));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(T4));
        var small = Vector256.FusedMultiplyAdd(p * z, x, x);
        return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(0.625f)), small, Tanh(x));
    }
}
