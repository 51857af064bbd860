using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

/// <summary>The small ops of decoder-only models: SiLU and its gated form, soft-capping, Gemma's RMS norm, per-head norms, row gathers.</summary>
public class DecoderOpTests
{
    public static readonly TheoryData<int> Sizes = new() { 1, 7, 33, 129, 70001 };

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double[] Map(Tensor a, Func<double, double> f) => Enumerable.Range(0, a.Length).Select(i => f(a[i])).ToArray();

    private static double[] Map(Tensor a, Tensor b, Func<double, double, double> f) => Enumerable.Range(0, a.Length).Select(i => f(a[i], b[i])).ToArray();

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ForwardMatchesReferenceAtEveryLevel(int n)
    {
        var rng = new Random(n);
        using var a = TestUtil.Random(rng, new Shape(n), 12f);
        using var b = TestUtil.Random(rng, new Shape(n), 3f);
        using var big = TestUtil.Random(rng, new Shape(n), 200f);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using (var y = Ops.Silu(a)) Numerics.AssertClose(Map(a, x => x * Sigmoid(x)), y.Span, relative: 1e-5, absolute: 1e-6, what: $"Silu {level}");
            using (var y = Ops.SiluGated(a, b)) Numerics.AssertClose(Map(a, b, (g, u) => g * Sigmoid(g) * u), y.Span, relative: 1e-5, absolute: 1e-6, what: $"SiluGated {level}");
            using (var y = Ops.SoftCap(big, 30f)) Numerics.AssertClose(Map(big, x => 30 * Math.Tanh(x / 30)), y.Span, relative: 1e-6, absolute: 1e-6, what: $"SoftCap {level}");
            using (var y = Ops.SoftCap(a, 50f)) Numerics.AssertClose(Map(a, x => 50 * Math.Tanh(x / 50)), y.Span, relative: 1e-6, absolute: 1e-7, what: $"SoftCap small {level}");
        }
    }

    [Fact]
    public void GatedGeluIsGemmasGeluPytorchTanh()
    {
        // torch.nn.functional.gelu(x, approximate="tanh") = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
        var rng = new Random(5);
        using var gate = TestUtil.Random(rng, new Shape(257), 6f);
        using var up = TestUtil.Random(rng, new Shape(257));
        using var y = Ops.GatedGelu(gate, up);
        Numerics.AssertClose(Map(gate, up, (g, u) => 0.5 * g * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g))) * u), y.Span, relative: 1e-5, absolute: 1e-6);
    }

    [Fact]
    public void SiluAndSoftCapSaturateWithoutNaN()
    {
        float[] xs = [-1e4f, -200f, -90f, -20f, -1e-3f, 0f, 1e-3f, 20f, 90f, 200f, 1e4f, -7.5f, 7.5f, 0.3f, -0.3f, 1f, -1f];
        using var x = Tensor.FromArray(xs, xs.Length);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using (var y = Ops.Silu(x)) Numerics.AssertClose(Map(x, v => v * Sigmoid(v)), y.Span, relative: 1e-5, absolute: 1e-6, what: $"Silu {level}");
            using (var y = Ops.SoftCap(x, 30f)) Numerics.AssertClose(Map(x, v => 30 * Math.Tanh(v / 30)), y.Span, relative: 1e-6, absolute: 1e-6, what: $"SoftCap {level}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(37)]
    public void BackwardsMatchFiniteDifferencesAtEveryLevel(int n)
    {
        var rng = new Random(n);
        using var gate = TestUtil.Random(rng, new Shape(n), 4f);
        using var up = TestUtil.Random(rng, new Shape(n), 2f);
        using var logits = TestUtil.Random(rng, new Shape(n), 60f);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            TestUtil.CheckGradients(new Random(1), () => Ops.Silu(gate), gate);
            TestUtil.CheckGradients(new Random(2), () => Ops.SiluGated(gate, up), gate, up);
            TestUtil.CheckGradients(new Random(3), () => Ops.SoftCap(logits, 30f), logits);
        }
    }

    [Fact]
    public void LargeBackwardsMatchTheClosedForms()
    {
        int n = 70001;
        var rng = new Random(8);
        using var gate = TestUtil.Random(rng, new Shape(n), 8f);
        using var up = TestUtil.Random(rng, new Shape(n), 2f);
        using var g = TestUtil.Random(rng, new Shape(n));
        gate.RequiresGrad = up.RequiresGrad = true;
        using (var tape = new Tape())
        using (tape.Activate())
        {
            tape.Backward(Ops.SiluGated(gate, up), g);
            tape.Backward(Ops.SoftCap(gate, 3f), g);
        }
        var dGate = new double[n];
        var dUp = new double[n];
        for (int i = 0; i < n; i++)
        {
            double x = gate[i], s = Sigmoid(x), t = Math.Tanh(x / 3);
            dGate[i] = g[i] * up[i] * s * (1 + x * (1 - s)) + g[i] * (1 - t * t);
            dUp[i] = g[i] * x * s;
        }
        Numerics.AssertClose(dGate, gate.Grad!.Span, relative: 1e-4, absolute: 1e-5, what: "dgate");
        Numerics.AssertClose(dUp, up.Grad!.Span, relative: 1e-4, absolute: 1e-5, what: "dup");
    }

    private static double[] RmsNormRef(Tensor x, Tensor w, double eps, double offset)
    {
        int d = w.Length, rows = x.Length / d;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double)x[r * d + j] * x[r * d + j];
            double rstd = 1 / Math.Sqrt(ss / d + eps);
            for (int j = 0; j < d; j++) y[r * d + j] = x[r * d + j] * rstd * (offset + w[j]);
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 33)]
    [InlineData(300, 130)]
    public void GemmaRmsNormScalesByOnePlusWeightAtEveryLevel(int rows, int d)
    {
        var rng = new Random(rows + d);
        using var x = TestUtil.Random(rng, new Shape(rows, d), 2f);
        using var w = TestUtil.Random(rng, new Shape(d), 0.3f);
        var expected = RmsNormRef(x, w, 1e-6, 1.0);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = Ops.RmsNorm(x, w, 1e-6f, weightPlusOne: true);
            Numerics.AssertClose(expected, y.Span, relative: 1e-5, absolute: 1e-5, what: $"RmsNorm(1+w) {level}");
            if (rows * d < 200)
                TestUtil.CheckGradients(new Random(2), () => Ops.RmsNorm(x, w, 1e-6f, weightPlusOne: true), x, w);
        }
    }

    [Fact]
    public void GemmaRmsNormGradientsMatchTheClosedFormOnLargeInputs()
    {
        int rows = 700, d = 131;
        var rng = new Random(1);
        using var x = TestUtil.Random(rng, new Shape(rows, d), 2f);
        using var w = TestUtil.Random(rng, new Shape(d), 0.2f);
        using var g = TestUtil.Random(rng, new Shape(rows, d));
        x.RequiresGrad = w.RequiresGrad = true;
        using (var tape = new Tape())
        using (tape.Activate())
            tape.Backward(Ops.RmsNorm(x, w, 1e-6f, weightPlusOne: true), g);
        var dx = new double[rows * d];
        var dw = new double[d];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0, dot = 0;
            for (int j = 0; j < d; j++) { ss += (double)x[r, j] * x[r, j]; dot += (1.0 + w[j]) * g[r, j] * x[r, j]; }
            double rs = 1 / Math.Sqrt(ss / d + 1e-6);
            for (int j = 0; j < d; j++)
            {
                dx[r * d + j] = rs * (1.0 + w[j]) * g[r, j] - x[r, j] * rs * rs * rs * dot / d;
                dw[j] += g[r, j] * x[r, j] * rs;
            }
        }
        Numerics.AssertClose(dx, x.Grad!.Span, relative: 1e-4, absolute: 1e-5, what: "dx");
        Numerics.AssertClose(dw, w.Grad!.Span, relative: 1e-4, absolute: 1e-3, what: "dw");
    }

    [Fact]
    public void PerHeadRmsNormOfAReshapedProjection()
    {
        // qk-norm (Qwen3, Gemma 3): q [B, T, H·D] seen as [B·T·H, D], normed per head with weight [D], seen back.
        int b = 2, t = 5, h = 3, d = 16;
        var rng = new Random(4);
        using var q = TestUtil.Random(rng, new Shape(b, t, h * d), 2f);
        using var w = TestUtil.Random(rng, new Shape(d));
        Tensor Forward() => Ops.Reshape(Ops.RmsNorm(Ops.Reshape(q, new Shape(b * t * h, d)), w, 1e-6f), new Shape(b, t, h * d));
        var expected = RmsNormRef(q, w, 1e-6, 0.0); // rows of d = one head each
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using (var y = Forward())
            {
                Assert.Equal(q.Shape, y.Shape);
                Numerics.AssertClose(expected, y.Span, relative: 1e-5, absolute: 1e-5, what: $"qk-norm {level}");
            }
            TestUtil.CheckGradients(new Random(5), Forward, q, w);
        }
    }

    [Fact]
    public void GatherRowsPicksRowsAndScatterAddsGradients()
    {
        // Hidden states [B, T, d]; the value head reads rows b·T + last_prompt_token(b); a row may repeat.
        int b = 3, t = 7, d = 19;
        var rng = new Random(6);
        using var x = TestUtil.Random(rng, new Shape(b, t, d));
        int[] rows = [0 * t + 4, 1 * t + 6, 2 * t + 0, 1 * t + 6];
        using (var y = Ops.GatherRows(x, rows))
        {
            Assert.Equal(new Shape(rows.Length, d), y.Shape);
            for (int r = 0; r < rows.Length; r++)
                for (int j = 0; j < d; j++) Assert.Equal(x[rows[r] * d + j], y[r * d + j]);
        }
        TestUtil.CheckGradients(new Random(7), () => Ops.GatherRows(x, rows), x);
        Assert.Contains("21", Assert.Throws<ArgumentOutOfRangeException>(() => Ops.GatherRows(x, [21])).Message);
    }

    [Fact]
    public void SoftCapRejectsANonPositiveCap()
    {
        using var x = Tensor.Zeros(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SoftCap(x, 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SoftCap(x, float.NaN));
    }
}
