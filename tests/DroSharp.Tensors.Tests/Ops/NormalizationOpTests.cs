using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

public class NormalizationOpTests
{
    public static readonly TheoryData<int, int> Shapes = new() { { 1, 1 }, { 3, 7 }, { 5, 33 }, { 2, 129 }, { 300, 130 } };

    private static double[] RmsNormRef(Tensor x, Tensor w, double eps)
    {
        int d = w.Length, rows = x.Length / d;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double)x[r * d + j] * x[r * d + j];
            double rstd = 1 / Math.Sqrt(ss / d + eps);
            for (int j = 0; j < d; j++) y[r * d + j] = w[j] * x[r * d + j] * rstd;
        }
        return y;
    }

    private static double[] SoftmaxRef(Tensor x, int n, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / n; r++)
        {
            double m = double.NegativeInfinity;
            for (int j = 0; j < n; j++) m = Math.Max(m, x[r * n + j]);
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.Exp(x[r * n + j] - m);
            for (int j = 0; j < n; j++)
                y[r * n + j] = log ? x[r * n + j] - m - Math.Log(s) : Math.Exp(x[r * n + j] - m) / s;
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RmsNormMatchesReferenceAtEveryLevel(int rows, int d)
    {
        var rng = new Random(rows * 1000 + d);
        using var x = TestUtil.Random(rng, new Shape(rows, d), 2f);
        using var w = TestUtil.Random(rng, new Shape(d));
        var expected = RmsNormRef(x, w, 1e-6);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = Ops.RmsNorm(x, w, 1e-6f);
            Numerics.AssertClose(expected, y.Span, relative: 1e-5, absolute: 1e-5, what: $"RmsNorm {level}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SoftmaxAndLogSoftmaxMatchReferenceAtEveryLevel(int rows, int n)
    {
        var rng = new Random(rows * 7 + n);
        using var x = TestUtil.Random(rng, new Shape(rows, n), 20f);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using (var y = Ops.Softmax(x)) Numerics.AssertClose(SoftmaxRef(x, n, false), y.Span, relative: 1e-5, absolute: 1e-6, what: $"Softmax {level}");
            using (var y = Ops.LogSoftmax(x)) Numerics.AssertClose(SoftmaxRef(x, n, true), y.Span, relative: 1e-6, absolute: 1e-5, what: $"LogSoftmax {level}");
        }
    }

    [Fact]
    public void SoftmaxRowHandlesNegativeInfinity()
    {
        float[] row = [float.NegativeInfinity, 1f, float.NegativeInfinity, 2f];
        using var x = Tensor.FromArray(row, 1, 4);
        using var y = Ops.Softmax(x);
        double e = Math.Exp(-1);
        Numerics.AssertClose([0, e / (1 + e), 0, 1 / (1 + e)], y.Span, relative: 1e-5, absolute: 1e-6);
        using var allMasked = Tensor.FromArray([float.NegativeInfinity, float.NegativeInfinity], 1, 2);
        using var z = Ops.Softmax(allMasked);
        Assert.Equal([0f, 0f], z.ToArray());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(2, 33)]
    public void BackwardsMatchFiniteDifferences(int rows, int d)
    {
        var rng = new Random(rows + 17 * d);
        using var x = TestUtil.Random(rng, new Shape(rows, d), 2f);
        using var w = TestUtil.Random(rng, new Shape(d));
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            TestUtil.CheckGradients(rng, () => Ops.RmsNorm(x, w, 1e-6f), x, w);
            TestUtil.CheckGradients(rng, () => Ops.Softmax(x), x);
            TestUtil.CheckGradients(rng, () => Ops.LogSoftmax(x), x);
        }
    }

    [Fact]
    public void RmsNormErrorsNameTheWeight()
    {
        using var x = Tensor.Zeros(2, 5);
        using var w = Tensor.Zeros(4);
        w.Name = "encoder.final_layer_norm.weight";
        var e = Assert.Throws<ArgumentException>(() => Ops.RmsNorm(x, w, 1e-6f));
        Assert.Contains("encoder.final_layer_norm.weight", e.Message);
    }
}
