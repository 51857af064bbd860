using System.Numerics;

namespace DroSharp.TestSupport;

/// <summary>
/// Element-wise comparisons of computed numbers with expected ones. One argument order everywhere:
/// (expected, actual, tolerances, what); call with named tolerances (<c>relative: 1e-5, absolute: 1e-6</c>).
/// </summary>
public static class Numerics
{
    /// <summary>
    /// Asserts |actual[i] − expected[i]| ≤ absolute + relative·|expected[i]| for every i (in double).
    /// Equal infinities pass (a masked log-probability is −∞ in both); NaN never passes.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relative, double absolute, string what = "") =>
        Elementwise(expected, actual, relative, absolute, what);

    /// <inheritdoc cref="AssertClose(ReadOnlySpan{double}, ReadOnlySpan{double}, double, double, string)"/>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what = "") =>
        Elementwise(expected, actual, relative, absolute, what);

    /// <inheritdoc cref="AssertClose(ReadOnlySpan{double}, ReadOnlySpan{double}, double, double, string)"/>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what = "") =>
        Elementwise(expected, actual, relative, absolute, what);

    /// <summary>
    /// Asserts max_i |actual[i] − expected[i]| ≤ relative · max(floor, max_i |expected[i]|): an error measured
    /// against the largest expected magnitude (golden tensors whose small entries carry only rounding noise).
    /// <paramref name="floor"/> is the smallest scale the relative tolerance applies to. NaN never passes.
    /// </summary>
    public static void AssertCloseToMax(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relative, double floor = 0, string what = "") =>
        AgainstMax(expected, actual, relative, floor, what);

    /// <inheritdoc cref="AssertCloseToMax(ReadOnlySpan{double}, ReadOnlySpan{double}, double, double, string)"/>
    public static void AssertCloseToMax(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, double floor = 0, string what = "") =>
        AgainstMax(expected, actual, relative, floor, what);

    private static void Elementwise<TE, TA>(ReadOnlySpan<TE> expected, ReadOnlySpan<TA> actual, double relative, double absolute, string what)
        where TE : INumberBase<TE> where TA : INumberBase<TA>
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateTruncating(expected[i]), a = double.CreateTruncating(actual[i]);
            if (double.IsInfinity(e) && e == a) continue;
            double error = Math.Abs(a - e), allowed = absolute + relative * Math.Abs(e);
            if (!(error <= allowed))
                Assert.Fail($"{what}[{i}]: expected {e:G9}, got {a:G9}; |error| {error:G3} > {absolute:G3} + {relative:G3}·|expected| = {allowed:G3}");
        }
    }

    private static void AgainstMax<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, double relative, double floor, string what)
        where T : INumberBase<T>
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        double scale = floor, worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateTruncating(expected[i]), a = double.CreateTruncating(actual[i]);
            scale = Math.Max(scale, Math.Abs(e));
            double error = Math.Abs(a - e);
            if (double.IsNaN(error)) error = double.PositiveInfinity;
            if (error > worst) { worst = error; at = i; }
        }
        double allowed = relative * scale;
        if (!(worst <= allowed))
        {
            string where = at < 0 ? "" : $" at [{at}] (expected {double.CreateTruncating(expected[at]):G9}, got {double.CreateTruncating(actual[at]):G9})";
            Assert.Fail($"{what}: largest |error| {worst:G4}{where} > {relative:G3} × max(|expected|) {scale:G4} = {allowed:G4}");
        }
    }
}
