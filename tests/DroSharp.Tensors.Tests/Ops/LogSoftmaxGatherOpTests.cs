using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

public class LogSoftmaxGatherOpTests
{
    private static double[] Reference(Tensor logits, int[] targets)
    {
        int n = logits.Shape[0], v = logits.Shape[1];
        var r = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (targets[i] < 0) continue;
            double m = double.NegativeInfinity, s = 0;
            for (int j = 0; j < v; j++) m = Math.Max(m, logits[i, j]);
            for (int j = 0; j < v; j++) s += Math.Exp(logits[i, j] - m);
            r[i] = logits[i, targets[i]] - m - Math.Log(s);
        }
        return r;
    }

    private static int[] Targets(Random rng, int n, int v) =>
        Enumerable.Range(0, n).Select(i => i % 4 == 3 ? -100 : rng.Next(v)).ToArray();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(33, 17)]
    [InlineData(5, 129)]
    [InlineData(9, 5000)]
    [InlineData(3, 32128)]
    public void ForwardMatchesReferenceAtEveryLevel(int n, int v)
    {
        var rng = new Random(n * 31 + v);
        using var logits = TestUtil.Random(rng, new Shape(n, v), 15f);
        var targets = Targets(rng, n, v);
        var expected = Reference(logits, targets);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = Ops.LogSoftmaxGather(logits, targets);
            Assert.Equal(new Shape(n), y.Shape);
            Numerics.AssertClose(expected, y.Span, relative: 1e-5, absolute: 2e-5, what: $"LogSoftmaxGather {level}");
            for (int i = 0; i < n; i++) if (targets[i] < 0) Assert.Equal(0f, y[i]);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 7)]
    [InlineData(8, 33)]
    public void BackwardMatchesFiniteDifferences(int n, int v)
    {
        var rng = new Random(n + v);
        using var logits = TestUtil.Random(rng, new Shape(n, v), 3f);
        var targets = Targets(rng, n, v);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            TestUtil.CheckGradients(rng, () => Ops.LogSoftmaxGather(logits, targets), logits);
        }
    }

    [Theory]
    [InlineData(6, 5000)]
    [InlineData(2, 33)]
    public void BackwardMatchesTheClosedFormOnALargeVocabulary(int n, int v)
    {
        // dlogits[i, j] = g[i]·(1[j = tᵢ] − softmax[i, j]); zero rows for padding targets.
        var rng = new Random(v);
        using var logits = TestUtil.Random(rng, new Shape(n, v), 10f);
        logits.RequiresGrad = true;
        var targets = Targets(rng, n, v);
        using var g = TestUtil.Random(rng, new Shape(n));
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            logits.Grad?.Clear();
            using (var tape = new Tape())
            using (tape.Activate())
                tape.Backward(Ops.LogSoftmaxGather(logits, targets), g);
            var expected = new double[n * v];
            for (int i = 0; i < n; i++)
            {
                if (targets[i] < 0) continue;
                double m = double.NegativeInfinity, s = 0;
                for (int j = 0; j < v; j++) m = Math.Max(m, logits[i, j]);
                for (int j = 0; j < v; j++) s += Math.Exp(logits[i, j] - m);
                for (int j = 0; j < v; j++) expected[i * v + j] = g[i] * ((j == targets[i] ? 1 : 0) - Math.Exp(logits[i, j] - m) / s);
            }
            Numerics.AssertClose(expected, logits.Grad!.Span, relative: 1e-4, absolute: 1e-6, what: $"dlogits {level}");
        }
    }

    [Fact]
    public void OverwritingBackwardIntoAFreshIntermediateGradientWritesEveryElement()
    {
        // logits is an intermediate (Scale of a parameter), so its gradient buffer is taken from the
        // arena uninitialised; poison the arena first so a missed element would show as NaN.
        int n = 9, v = 133;
        var rng = new Random(12);
        using var p = TestUtil.Random(rng, new Shape(n, v), 5f);
        p.RequiresGrad = true;
        var targets = Targets(rng, n, v);
        using var g = TestUtil.Random(rng, new Shape(n));
        g[1] = 0f; // a zero upstream gradient row is skipped and must be written as zeros too
        using var tape = new Tape { RecycleGradients = false }; // logits.Grad is read after backward
        using (tape.Activate()) tape.Arena.Uninitialized(new Shape(64, n * v)).Fill(float.NaN);
        tape.Reset();
        using (tape.Activate())
        {
            var logits = Ops.Scale(p, 1f);
            tape.Backward(Ops.LogSoftmaxGather(logits, targets), g);
            Assert.All(logits.Grad!.ToArray(), x => Assert.True(float.IsFinite(x)));
        }
        var expected = new double[n * v];
        for (int i = 0; i < n; i++)
        {
            if (targets[i] < 0) continue;
            double m = double.NegativeInfinity, s = 0;
            for (int j = 0; j < v; j++) m = Math.Max(m, p[i, j]);
            for (int j = 0; j < v; j++) s += Math.Exp(p[i, j] - m);
            for (int j = 0; j < v; j++) expected[i * v + j] = g[i] * ((j == targets[i] ? 1 : 0) - Math.Exp(p[i, j] - m) / s);
        }
        Numerics.AssertClose(expected, p.Grad!.Span, relative: 1e-4, absolute: 1e-6);
    }

    [Fact]
    public void IsBitIdenticalTwice()
    {
        var rng = new Random(8);
        using var logits = TestUtil.Random(rng, new Shape(37, 3001), 8f);
        var targets = Targets(rng, 37, 3001);
        using var g = TestUtil.Random(rng, new Shape(37));
        float[] Once(out float[] grad)
        {
            logits.RequiresGrad = true;
            logits.Grad?.Clear();
            using var tape = new Tape();
            using var _ = tape.Activate();
            var y = Ops.LogSoftmaxGather(logits, targets);
            tape.Backward(y, g);
            grad = logits.Grad!.ToArray();
            return y.ToArray();
        }
        Assert.Equal(Once(out var g1), Once(out var g2));
        Assert.Equal(g1, g2);
    }

    [Fact]
    public void TargetOutsideTheVocabularyIsAClearError()
    {
        using var logits = Tensor.Zeros(2, 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.LogSoftmaxGather(logits, [0, 4]));
        Assert.Contains("row 1", e.Message);
        Assert.Throws<ArgumentException>(() => Ops.LogSoftmaxGather(logits, [0]));
    }
}
