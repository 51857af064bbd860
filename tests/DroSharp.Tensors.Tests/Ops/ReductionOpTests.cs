namespace DroSharp.Tensors.Tests;

public class ReductionOpTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(5, 33)]
    [InlineData(2, 5000)]
    public void SumsMatchReferenceAndBackward(int rows, int n)
    {
        var rng = new Random(rows * 13 + n);
        using var x = TestUtil.Random(rng, new Shape(rows, n));
        var rowSums = new double[rows];
        double total = 0;
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) { rowSums[r] += x[r, j]; total += x[r, j]; }
        using (var y = Ops.SumLastAxis(x)) { Assert.Equal(new Shape(rows), y.Shape); Numerics.AssertClose(rowSums, y.Span, relative: 1e-5, absolute: 1e-4); }
        using (var y = Ops.Sum(x)) { Assert.Equal(new Shape(1), y.Shape); Numerics.AssertClose([total], y.Span, relative: 1e-5, absolute: 1e-4); }
        using (var y = Ops.Mean(x)) Numerics.AssertClose([total / x.Length], y.Span, relative: 1e-5, absolute: 1e-6);
        if (n <= 33)
        {
            TestUtil.CheckGradients(rng, () => Ops.SumLastAxis(x), x);
            TestUtil.CheckGradients(rng, () => Ops.Sum(x), x);
            TestUtil.CheckGradients(rng, () => Ops.Mean(x), x);
        }
    }

    [Fact]
    public void SumLastAxisDropsTheLastAxis()
    {
        using var x = Tensor.Zeros(new Shape(2, 3, 4));
        using var y = Ops.SumLastAxis(x);
        Assert.Equal(new Shape(2, 3), y.Shape);
        using var v = Tensor.Zeros(5);
        using var s = Ops.SumLastAxis(v);
        Assert.Equal(new Shape(1), s.Shape);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 7, 5)]
    [InlineData(2, 9, 33)]
    public void MaskedMeanPoolMatchesReferenceAndBackward(int b, int t, int d)
    {
        var rng = new Random(b * 100 + t * 10 + d);
        using var x = TestUtil.Random(rng, new Shape(b, t, d));
        using var mask = Tensor.Zeros(b, t);
        for (int i = 0; i < b; i++)
        {
            // Batch row 1 (if any) is all padding: it must give zeros, not NaN.
            int len = i == 1 ? 0 : 1 + rng.Next(t);
            for (int j = 0; j < len; j++) mask[i, j] = 1f;
        }
        var expected = new double[b * d];
        for (int i = 0; i < b; i++)
        {
            double count = 0;
            for (int j = 0; j < t; j++) count += mask[i, j];
            for (int k = 0; k < d; k++)
            {
                double s = 0;
                for (int j = 0; j < t; j++) s += mask[i, j] * x[(i * t + j) * d + k];
                expected[i * d + k] = s / Math.Max(1, count);
            }
        }
        using (var y = Ops.MaskedMeanPool(x, mask)) Numerics.AssertClose(expected, y.Span, relative: 1e-5, absolute: 1e-6);
        TestUtil.CheckGradients(rng, () => Ops.MaskedMeanPool(x, mask), x);
    }
}
