using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

public class AttentionOpTests
{
    /// <summary>Straightforward double-precision attention: per (b, h, i) scores, mask, softmax, weighted sum.</summary>
    private static double[] Reference(Tensor q, Tensor k, Tensor v, int heads, Tensor? bias, Tensor? mask, bool causal)
    {
        int b = q.Shape[0], tq = q.Shape[1], hd = q.Shape[2], tk = k.Shape[1], dk = hd / heads;
        var o = new double[q.Length];
        var s = new double[tk];
        for (int bi = 0; bi < b; bi++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < tq; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < tk; j++)
            {
                bool visible = (mask is null || mask[bi, j] != 0f) && (!causal || j <= i + tk - tq);
                if (!visible) { s[j] = double.NegativeInfinity; continue; }
                double dot = 0;
                for (int c = 0; c < dk; c++) dot += (double)q[(bi * tq + i) * hd + h * dk + c] * k[(bi * tk + j) * hd + h * dk + c];
                if (bias is not null) dot += bias[(h * tq + i) * tk + j];
                s[j] = dot;
                max = Math.Max(max, dot);
            }
            if (double.IsNegativeInfinity(max)) continue; // fully masked: zeros
            double sum = 0;
            for (int j = 0; j < tk; j++) { s[j] = Math.Exp(s[j] - max); sum += s[j]; }
            for (int c = 0; c < dk; c++)
            {
                double acc = 0;
                for (int j = 0; j < tk; j++) acc += s[j] / sum * v[(bi * tk + j) * hd + h * dk + c];
                o[(bi * tq + i) * hd + h * dk + c] = acc;
            }
        }
        return o;
    }

    private sealed class Case : IDisposable
    {
        public required Tensor Q, K, V;
        public Tensor? Bias, Mask;
        public int Heads;
        public bool Causal;

        public static Case Make(int seed, int b, int heads, int tq, int tk, int dk, bool bias, bool mask, bool causal, bool fullyMaskedRow = false)
        {
            var rng = new Random(seed);
            var c = new Case
            {
                Q = TestUtil.Random(rng, new Shape(b, tq, heads * dk)),
                K = TestUtil.Random(rng, new Shape(b, tk, heads * dk)),
                V = TestUtil.Random(rng, new Shape(b, tk, heads * dk)),
                Bias = bias ? TestUtil.Random(rng, new Shape(heads, tq, tk)) : null,
                Heads = heads,
                Causal = causal,
            };
            if (mask)
            {
                c.Mask = Tensor.Zeros(b, tk);
                for (int i = 0; i < b; i++)
                {
                    // Right padding of a random length; batch row 0 keeps everything.
                    int len = i == 0 ? tk : 1 + rng.Next(tk);
                    if (fullyMaskedRow && i == b - 1) len = 0;
                    for (int j = 0; j < len; j++) c.Mask[i, j] = 1f;
                }
            }
            return c;
        }

        public Tensor Run() => Ops.Attention(Q, K, V, Heads, Bias, Mask, Causal);

        public double[] Expected() => Reference(Q, K, V, Heads, Bias, Mask, Causal);

        public void Dispose()
        {
            Q.Dispose(); K.Dispose(); V.Dispose(); Bias?.Dispose(); Mask?.Dispose();
        }
    }

    public static readonly TheoryData<int, int, int, int, int, bool, bool, bool> Cases = new()
    {
        // b, heads, tq, tk, dk, bias, mask, causal
        { 1, 1, 1, 1, 1, false, false, false },
        { 2, 3, 7, 7, 5, true, true, false },     // encoder self-attention with padding
        { 2, 2, 7, 7, 4, true, false, true },     // decoder self-attention
        { 3, 2, 5, 9, 3, false, true, false },    // cross-attention, Tq ≠ Tk
        { 2, 2, 3, 8, 4, true, true, true },      // causal with a cache: query i sees keys ≤ i + 5
        { 1, 4, 33, 33, 16, true, true, true },
        { 2, 2, 17, 129, 8, true, true, false },
        { 2, 1, 130, 130, 3, true, true, true },  // three causal query blocks, padded keys skipped
        { 1, 2, 70, 100, 2, true, false, true },  // causal blocks with Tq < Tk (a cache)
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReferenceAtEveryLevel(int b, int heads, int tq, int tk, int dk, bool bias, bool mask, bool causal)
    {
        using var c = Case.Make(b * 7 + tq, b, heads, tq, tk, dk, bias, mask, causal);
        var expected = c.Expected();
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = c.Run();
            Numerics.AssertClose(expected, y.Span, relative: 1e-4, absolute: 2e-5, what: $"attention {level}");
        }
    }

    [Fact]
    public void FullyMaskedRowGivesZerosAndNoNaN()
    {
        // Batch row 2's keys are all padding.
        using var c = Case.Make(5, 3, 2, 4, 6, 3, bias: true, mask: true, causal: false, fullyMaskedRow: true);
        using (var y = c.Run())
        {
            Numerics.AssertClose(c.Expected(), y.Span, relative: 1e-4, absolute: 2e-5);
            for (int i = 2 * 4 * 6; i < y.Length; i++) Assert.Equal(0f, y[i]); // batch row 2: [4, 6]
        }
        TestUtil.CheckGradients(new Random(1), c.Run, c.Q, c.K, c.V, c.Bias!);
        Assert.All(c.Q.Grad!.ToArray(), g => Assert.True(float.IsFinite(g)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesFiniteDifferences(int b, int heads, int tq, int tk, int dk, bool bias, bool mask, bool causal)
    {
        if (tq * tk * b * heads * dk > 160_000) return; // keep the finite differences fast
        using var c = Case.Make(b * 11 + tk, b, heads, tq, tk, dk, bias, mask, causal);
        var inputs = bias ? new[] { c.Q, c.K, c.V, c.Bias! } : new[] { c.Q, c.K, c.V };
        // Large cases check a random subset of elements to stay fast.
        TestUtil.CheckGradients(new Random(2), c.Run, inputs, h: 1e-2f, maxChecks: tq * tk > 1000 ? 24 : 64);
    }

    [Fact]
    public void BackwardAtNarrowLevelsMatchesFiniteDifferences()
    {
        using var c = Case.Make(77, 2, 2, 5, 6, 3, bias: true, mask: true, causal: true);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            TestUtil.CheckGradients(new Random(3), c.Run, c.Q, c.K, c.V, c.Bias!);
        }
    }

    [Fact]
    public void OnlyTheInputsThatNeedGradientsGetThem()
    {
        using var c = Case.Make(8, 2, 2, 4, 4, 3, bias: true, mask: false, causal: false);
        c.V.RequiresGrad = true;
        using (var tape = new Tape())
        using (tape.Activate())
        {
            var y = c.Run();
            using var g = TestUtil.Random(new Random(1), y.Shape);
            tape.Backward(y, g);
        }
        Assert.NotNull(c.V.Grad);
        Assert.Null(c.Q.Grad);
        Assert.Null(c.K.Grad);
        Assert.Null(c.Bias!.Grad);
    }

    [Fact]
    public void ForwardAndBackwardAreBitIdenticalTwice()
    {
        using var c = Case.Make(9, 4, 4, 21, 21, 8, bias: true, mask: true, causal: true);
        float[] RunOnce(out float[] dq, out float[] dBias)
        {
            foreach (var t in new[] { c.Q, c.K, c.V, c.Bias! }) { t.RequiresGrad = true; t.Grad?.Clear(); }
            using var tape = new Tape();
            using var _ = tape.Activate();
            var y = c.Run();
            using var g = TestUtil.Random(new Random(4), y.Shape);
            tape.Backward(y, g);
            dq = c.Q.Grad!.ToArray();
            dBias = c.Bias!.Grad!.ToArray();
            return y.ToArray();
        }
        var y1 = RunOnce(out var dq1, out var db1);
        var y2 = RunOnce(out var dq2, out var db2);
        Assert.Equal(y1, y2);
        Assert.Equal(dq1, dq2);
        Assert.Equal(db1, db2);
    }

    [Fact]
    public unsafe void KernelUsesAKvCacheInPlace()
    {
        // K, V live in a cache [B, Tmax, H·dk] filled up to Tk; one new query per sequence (causal, Tq = 1).
        int b = 2, heads = 3, dk = 4, tmax = 10, tk = 6, hd = heads * dk;
        var rng = new Random(6);
        using var cacheK = TestUtil.Random(rng, new Shape(b, tmax, hd));
        using var cacheV = TestUtil.Random(rng, new Shape(b, tmax, hd));
        using var q = TestUtil.Random(rng, new Shape(b, 1, hd));
        using var mask = Tensor.Zeros(b, tmax);
        for (int i = 0; i < b; i++) for (int j = i; j < tk; j++) mask[i, j] = 1f; // left padding in row 1
        using var k = Tensor.Zeros(b, tk, hd);
        using var v = Tensor.Zeros(b, tk, hd);
        using var m = Tensor.Zeros(b, tk);
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < tk; j++)
            {
                m[i, j] = mask[i, j];
                for (int c = 0; c < hd; c++) { k[(i * tk + j) * hd + c] = cacheK[(i * tmax + j) * hd + c]; v[(i * tk + j) * hd + c] = cacheV[(i * tmax + j) * hd + c]; }
            }
        }
        var expected = Reference(q, k, v, heads, null, m, causal: true);
        using var output = Tensor.Zeros(b, 1, hd);
        using var probs = Tensor.Zeros(new Shape(b, heads, 1, tk));
        AttentionKernel.Forward(q.Data, cacheK.Data, cacheV.Data, null, mask.Data, output.Data, probs.Data,
            b, heads, 1, tk, dk, causal: true, kvBatchStride: (long)tmax * hd, keyMaskBatchStride: tmax);
        Numerics.AssertClose(expected, output.Span, relative: 1e-4, absolute: 2e-5);
    }

    [Fact]
    public void BadShapesAreClearErrors()
    {
        using var q = Tensor.Zeros(new Shape(2, 3, 8));
        using var k = Tensor.Zeros(new Shape(2, 4, 8));
        using var bias = Tensor.Zeros(new Shape(2, 3, 3));
        Assert.Throws<ArgumentException>(() => Ops.Attention(q, k, k, 3, null, null, false));
        var e = Assert.Throws<ArgumentException>(() => Ops.Attention(q, k, k, 2, bias, null, false));
        Assert.Contains("[2, 3, 4]", e.Message);
        using var k2 = Tensor.Zeros(new Shape(2, 2, 8));
        Assert.Throws<ArgumentException>(() => Ops.Attention(q, k2, k2, 2, null, null, causal: true));
    }
}
