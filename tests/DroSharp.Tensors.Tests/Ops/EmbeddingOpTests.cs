using DroSharp.Tensors.Autograd;

namespace DroSharp.Tensors.Tests;

public class EmbeddingOpTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 9)]
    [InlineData(33, 129, 40)]
    public void EmbeddingGathersRowsAndScatterAddsGradients(int vocab, int d, int n)
    {
        var rng = new Random(vocab + d + n);
        using var w = TestUtil.Random(rng, new Shape(vocab, d));
        // Repeated ids on purpose: their gradients must add up.
        var ids = Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
        using (var y = Ops.Embedding(w, ids))
        {
            Assert.Equal(new Shape(n, d), y.Shape);
            for (int t = 0; t < n; t++)
                for (int j = 0; j < d; j++) Assert.Equal(w[ids[t], j], y[t, j]);
        }
        TestUtil.CheckGradients(rng, () => Ops.Embedding(w, ids), w);
    }

    [Fact]
    public void EmbeddingBackwardIsExactScatterAdd()
    {
        var rng = new Random(3);
        using var w = TestUtil.Random(rng, new Shape(4, 37));
        w.RequiresGrad = true;
        int[] ids = [2, 0, 2, 2, 3];
        using var g = TestUtil.Random(rng, new Shape(ids.Length, 37));
        using (var tape = new Tape())
        using (tape.Activate())
            tape.Backward(Ops.Embedding(w, ids), g);
        for (int v = 0; v < 4; v++)
            for (int j = 0; j < 37; j++)
            {
                float expected = 0f;
                for (int t = 0; t < ids.Length; t++) if (ids[t] == v) expected += g[t, j];
                Assert.Equal(expected, w.Grad![v, j]);
            }
    }

    [Fact]
    public void EmbeddingRejectsAnOutOfRangeIdByName()
    {
        using var w = Tensor.Zeros(5, 3);
        w.Name = "shared.weight";
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Embedding(w, [1, 5]));
        Assert.Contains("5", e.Message);
        Assert.Contains("position 1", e.Message);
        Assert.Contains("shared.weight", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Embedding(w, [-1]));
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(32, 3, 7, 5)]
    [InlineData(9, 8, 13, 17)]
    public void PositionBiasGathersPerHeadAndBackwardMatchesFiniteDifferences(int buckets, int heads, int qLen, int kLen)
    {
        var rng = new Random(buckets * heads + qLen * kLen);
        using var table = TestUtil.Random(rng, new Shape(buckets, heads));
        var b = Enumerable.Range(0, qLen * kLen).Select(_ => rng.Next(buckets)).ToArray();
        using (var y = Ops.PositionBias(table, b, qLen, kLen))
        {
            Assert.Equal(new Shape(heads, qLen, kLen), y.Shape);
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < qLen; i++)
                    for (int j = 0; j < kLen; j++)
                        Assert.Equal(table[b[i * kLen + j], h], y[(h * qLen + i) * kLen + j]);
        }
        TestUtil.CheckGradients(rng, () => Ops.PositionBias(table, b, qLen, kLen), table);
    }

    [Fact]
    public void PositionBiasRejectsBadBuckets()
    {
        using var table = Tensor.Zeros(4, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.PositionBias(table, [0, 4], 1, 2));
        Assert.Throws<ArgumentException>(() => Ops.PositionBias(table, [0, 1, 2], 1, 2));
    }
}
