namespace DroSharp.Tensors.Tests.Kernels;

/// <summary>Checks on a GEMM's C stored in rows of <c>ldc</c> floats (<c>ldc ≥ n</c>, the padding holding a sentinel).</summary>
internal static class GemmTestUtil
{
    /// <summary>
    /// |got − want| ≤ <paramref name="tolerance"/> on every C[r, 0..n) (m rows per matrix, any number of
    /// matrices), and every padding element C[r, n..ldc) still equal to <paramref name="sentinel"/>.
    /// </summary>
    public static void AssertOutputClose(float[] want, float[] got, int m, int n, int ldc, float sentinel, double tolerance, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int r = 0; r * ldc < want.Length; r++)
        {
            int start = r * ldc, count = Math.Min(n, want.Length - start);
            for (int i = start + count; i < Math.Min(start + ldc, got.Length); i++)
                Assert.True(got[i] == sentinel, $"{what}: C padding at {i} overwritten with {got[i]}");
            Numerics.AssertClose(want.AsSpan(start, count), got.AsSpan(start, count), relative: 0, absolute: tolerance,
                what: $"{what}: C row {r % Math.Max(1, m)} of matrix {r / Math.Max(1, m)}, column");
        }
    }
}
