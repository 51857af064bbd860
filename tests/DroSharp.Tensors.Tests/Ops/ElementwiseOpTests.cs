using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

public class ElementwiseOpTests
{
    public static readonly TheoryData<int> Sizes = new() { 1, 7, 33, 129, 70001 };

    private static double GeluRef(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    private static double[] Map(Tensor a, Func<double, double> f)
    {
        var r = new double[a.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(a[i]);
        return r;
    }

    private static double[] Map(Tensor a, Tensor b, Func<double, double, double> f)
    {
        var r = new double[a.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(a[i], b[i]);
        return r;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ForwardMatchesReferenceAtEveryLevel(int n)
    {
        var rng = new Random(n);
        using var a = TestUtil.Random(rng, new Shape(n), 3f);
        using var b = TestUtil.Random(rng, new Shape(n), 3f);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using (var y = Ops.Add(a, b)) Numerics.AssertClose(Map(a, b, (x, z) => x + z), y.Span, relative: 1e-5, absolute: 1e-5, what: $"Add {level}");
            using (var y = Ops.Sub(a, b)) Numerics.AssertClose(Map(a, b, (x, z) => x - z), y.Span, relative: 1e-5, absolute: 1e-5, what: $"Sub {level}");
            using (var y = Ops.Mul(a, b)) Numerics.AssertClose(Map(a, b, (x, z) => x * z), y.Span, relative: 1e-5, absolute: 1e-5, what: $"Mul {level}");
            using (var y = Ops.Scale(a, -0.37f)) Numerics.AssertClose(Map(a, x => x * -0.37f), y.Span, relative: 1e-5, absolute: 1e-5, what: $"Scale {level}");
            using (var y = Ops.Relu(a)) Numerics.AssertClose(Map(a, x => Math.Max(x, 0)), y.Span, relative: 1e-5, absolute: 1e-5, what: $"Relu {level}");
            using (var y = Ops.GeluNew(a)) Numerics.AssertClose(Map(a, GeluRef), y.Span, relative: 1e-5, absolute: 1e-6, what: $"GeluNew {level}");
            using (var y = Ops.GatedGelu(a, b)) Numerics.AssertClose(Map(a, b, (g, l) => GeluRef(g) * l), y.Span, relative: 1e-5, absolute: 1e-6, what: $"GatedGelu {level}");
        }
    }

    [Fact]
    public void GeluCoversSaturationAndSmallValues()
    {
        float[] xs = [-30f, -9f, -5f, -1e-3f, -1e-6f, 1e-6f, 1e-3f, 0.5f, 5f, 9f, 30f, 60f, -60f, 2.5f, -2.5f, 1f, -1f];
        using var x = Tensor.FromArray(xs, xs.Length);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = Ops.GeluNew(x);
            Numerics.AssertClose(Map(x, GeluRef), y.Span, relative: 1e-5, absolute: 1e-6, what: $"GeluNew {level}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(33, 17)]
    [InlineData(600, 129)]
    public void AddBiasMatchesReference(int rows, int n)
    {
        var rng = new Random(rows * 31 + n);
        using var x = TestUtil.Random(rng, new Shape(rows, n));
        using var bias = TestUtil.Random(rng, new Shape(n));
        using var y = Ops.AddBias(x, bias);
        var expected = new double[x.Length];
        for (int i = 0; i < expected.Length; i++) expected[i] = (double)x[i] + bias[i % n];
        Numerics.AssertClose(expected, y.Span, relative: 1e-5, absolute: 1e-5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    public void BinaryBackwardsMatchFiniteDifferences(int n)
    {
        var rng = new Random(100 + n);
        using var a = TestUtil.Random(rng, new Shape(n));
        using var b = TestUtil.Random(rng, new Shape(n));
        TestUtil.CheckGradients(rng, () => Ops.Add(a, b), a, b);
        TestUtil.CheckGradients(rng, () => Ops.Sub(a, b), a, b);
        TestUtil.CheckGradients(rng, () => Ops.Mul(a, b), a, b);
        TestUtil.CheckGradients(rng, () => Ops.Scale(a, 1.7f), a);
        // The same tensor on both sides: gradients from both uses add up.
        TestUtil.CheckGradients(rng, () => Ops.Mul(a, a), a);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(5, 33)]
    public void AddBiasBackwardMatchesFiniteDifferences(int rows, int n)
    {
        var rng = new Random(rows + n);
        using var x = TestUtil.Random(rng, new Shape(rows, n));
        using var bias = TestUtil.Random(rng, new Shape(n));
        TestUtil.CheckGradients(rng, () => Ops.AddBias(x, bias), x, bias);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    public void ActivationBackwardsMatchFiniteDifferences(int n)
    {
        var rng = new Random(200 + n);
        using var x = TestUtil.RandomAwayFromZero(rng, new Shape(n));
        using var g = TestUtil.Random(rng, new Shape(n), 3f);
        using var l = TestUtil.Random(rng, new Shape(n));
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            TestUtil.CheckGradients(rng, () => Ops.Relu(x), x);
            TestUtil.CheckGradients(rng, () => Ops.GeluNew(g), g);
            TestUtil.CheckGradients(rng, () => Ops.GatedGelu(g, l), g, l);
        }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(129)]
    [InlineData(70001)]
    public void DropoutKeepsAboutOneMinusPAndScales(int n)
    {
        var rng = new Random(n);
        using var x = TestUtil.RandomAwayFromZero(rng, new Shape(n));
        const float p = 0.3f;
        using var y = Ops.Dropout(x, p, seed: 12345);
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            bool keep = DropoutKernel.Keeps(12345, i, p);
            Assert.Equal(keep ? x[i] / (1 - p) : 0f, y[i], 1e-6f);
            if (keep) kept++;
        }
        if (n > 10000) Assert.InRange(kept / (double)n, 0.69, 0.71);
        using var y2 = Ops.Dropout(x, p, seed: 12345);
        TestUtil.AssertBitIdentical(y, y2);
        using var y3 = Ops.Dropout(x, p, seed: 12346);
        if (n > 100) Assert.NotEqual(y.ToArray(), y3.ToArray());
        Assert.Same(x, Ops.Dropout(x, 0f, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Dropout(x, 1f, 1));
    }

    [Fact]
    public void DropoutBackwardRegeneratesTheMask()
    {
        var rng = new Random(5);
        using var x = TestUtil.Random(rng, new Shape(3, 41));
        TestUtil.CheckGradients(rng, () => Ops.Dropout(x, 0.4f, 99), x);
    }

    [Fact]
    public void ReshapeIsAViewAndGradientFlowsBack()
    {
        var rng = new Random(9);
        using var x = TestUtil.Random(rng, new Shape(6, 7));
        using (var tape = new Tape())
        using (tape.Activate())
        {
            var v = Ops.Reshape(x, new Shape(2, 3, 7));
            Assert.Equal(new Shape(2, 3, 7), v.Shape);
            unsafe { Assert.True(v.Data == x.Data); }
        }
        using var w = TestUtil.Random(rng, new Shape(7));
        // Through another op so the view's gradient has to be routed to x.
        TestUtil.CheckGradients(rng, () => Ops.Mul(Ops.Reshape(x, new Shape(3, 2, 7)), Ops.Reshape(x, new Shape(3, 2, 7))), x);
        Assert.Throws<ArgumentException>(() => Ops.Reshape(x, new Shape(5, 7)));
    }

    [Fact]
    public void ShapeMismatchIsAClearError()
    {
        using var a = Tensor.Zeros(2, 3);
        using var b = Tensor.Zeros(3, 2);
        var e = Assert.Throws<ArgumentException>(() => Ops.Add(a, b));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
    }
}
