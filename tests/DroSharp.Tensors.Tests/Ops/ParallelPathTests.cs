using DroSharp.Tensors.Autograd;

namespace DroSharp.Tensors.Tests;

/// <summary>
/// Shapes big enough that the kernels split work over the worker pool (rows, or column blocks for
/// the weight-gradient reductions): results match references and are bit-identical run to run.
/// </summary>
public class ParallelPathTests
{
    private static void Backward(Func<Tensor> forward, Tensor probe)
    {
        using var tape = new Tape();
        using var _ = tape.Activate();
        tape.Backward(forward(), probe);
    }

    [Fact]
    public void RmsNormGradientsMatchTheClosedFormOnLargeInputs()
    {
        int rows = 700, d = 131;
        var rng = new Random(1);
        using var x = TestUtil.Random(rng, new Shape(rows, d), 2f);
        using var w = TestUtil.Random(rng, new Shape(d));
        using var g = TestUtil.Random(rng, new Shape(rows, d));
        x.RequiresGrad = w.RequiresGrad = true;
        Backward(() => Ops.RmsNorm(x, w, 1e-6f), g);

        var dx = new double[rows * d];
        var dw = new double[d];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0, dot = 0;
            for (int j = 0; j < d; j++) { ss += (double)x[r, j] * x[r, j]; dot += (double)w[j] * g[r, j] * x[r, j]; }
            double rs = 1 / Math.Sqrt(ss / d + 1e-6);
            for (int j = 0; j < d; j++)
            {
                dx[r * d + j] = rs * w[j] * g[r, j] - x[r, j] * rs * rs * rs * dot / d;
                dw[j] += g[r, j] * x[r, j] * rs;
            }
        }
        Numerics.AssertClose(dx, x.Grad!.Span, relative: 1e-4, absolute: 1e-5, what: "dx");
        Numerics.AssertClose(dw, w.Grad!.Span, relative: 1e-4, absolute: 1e-3, what: "dw");
    }

    [Fact]
    public void EmbeddingScatterAddIsExactAndInTokenOrder()
    {
        int vocab = 50, d = 131, n = 3000;
        var rng = new Random(2);
        using var w = TestUtil.Random(rng, new Shape(vocab, d));
        w.RequiresGrad = true;
        var ids = Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
        using var g = TestUtil.Random(rng, new Shape(n, d));
        Backward(() => Ops.Embedding(w, ids), g);
        var expected = new float[vocab * d];
        for (int t = 0; t < n; t++) for (int j = 0; j < d; j++) expected[ids[t] * d + j] += g[t, j];
        Assert.Equal(expected, w.Grad!.ToArray());
    }

    [Fact]
    public void AddBiasGradientSumsRowsInOrder()
    {
        int rows = 3000, n = 37;
        var rng = new Random(3);
        using var x = TestUtil.Random(rng, new Shape(rows, n));
        using var b = TestUtil.Random(rng, new Shape(n));
        using var g = TestUtil.Random(rng, new Shape(rows, n));
        b.RequiresGrad = true;
        Backward(() => Ops.AddBias(x, b), g);
        var expected = new float[n];
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) expected[j] += g[r, j];
        Assert.Equal(expected, b.Grad!.ToArray());
    }

    [Fact]
    public void ForwardAndBackwardAreBitIdenticalTwice()
    {
        int rows = 520, d = 130;
        var rng = new Random(4);
        using var x = TestUtil.Random(rng, new Shape(rows, d));
        using var w = TestUtil.Random(rng, new Shape(d));
        using var gate = TestUtil.Random(rng, new Shape(rows, d), 3f);
        using var table = TestUtil.Random(rng, new Shape(32, 8));
        var buckets = Enumerable.Range(0, 40 * 40).Select(i => i % 32).ToArray();
        using var probeRows = TestUtil.Random(rng, new Shape(rows, d));
        using var probeBias = TestUtil.Random(rng, new Shape(8, 40, 40));
        Tensor[] inputs = [x, w, gate, table];
        foreach (var t in inputs) t.RequiresGrad = true;

        float[][] Run()
        {
            foreach (var t in inputs) t.Grad?.Clear();
            using var tape = new Tape();
            using (tape.Activate())
            {
                var y = Ops.GatedGelu(gate, Ops.Dropout(Ops.RmsNorm(x, w, 1e-6f), 0.2f, 7));
                var s = Ops.Softmax(Ops.LogSoftmax(y));
                tape.Backward(s, probeRows);
                tape.Backward(Ops.PositionBias(table, buckets, 40, 40), probeBias);
            }
            return inputs.Select(t => t.Grad!.ToArray()).ToArray();
        }
        var first = Run();
        var second = Run();
        for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);
    }
}
