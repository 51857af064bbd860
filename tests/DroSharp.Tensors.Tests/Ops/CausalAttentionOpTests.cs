using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Tests;

public class CausalAttentionOpTests
{
    /// <summary>Which keys a batch row's mask hides.</summary>
    public enum MaskKind { None, RightPadding, Holes, FullyMaskedRow }

    /// <summary>
    /// Double-precision attention and its gradients, straight from the definition: per (b, h, i),
    /// s_j = scale·q·k_j (soft-capped), visible keys j ≤ i, j &gt; i − W, mask ≠ 0; P = softmax; O = P·V.
    /// Backward for a probe g = dL/dO: dP = g·vᵀ, dS = P ⊙ (dP − Σ P⊙dP), chain through the cap and scale.
    /// </summary>
    private sealed class Reference
    {
        public double[] O = [], Dq = [], Dk = [], Dv = [];

        public static Reference Compute(Case c, Tensor? probe)
        {
            int b = c.B, t = c.T, hq = c.Hq, hkv = c.Hkv, d = c.D, group = hq / hkv;
            var r = new Reference { O = new double[b * t * hq * d], Dq = new double[b * t * hq * d], Dk = new double[b * t * hkv * d], Dv = new double[b * t * hkv * d] };
            var raw = new double[t];
            var s = new double[t];
            var p = new double[t];
            var dp = new double[t];
            for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < hq; h++)
            for (int i = 0; i < t; i++)
            {
                int kv = h / group;
                long qo = ((long)bi * t + i) * hq * d + h * d;
                double max = double.NegativeInfinity;
                for (int j = 0; j < t; j++)
                {
                    bool visible = j <= i && (c.Window == 0 || j > i - c.Window) && (c.Mask is null || c.Mask[bi, j] != 0f);
                    if (!visible) { s[j] = double.NegativeInfinity; continue; }
                    double dot = 0;
                    long ko = ((long)bi * t + j) * hkv * d + kv * d;
                    for (int e = 0; e < d; e++) dot += (double)c.Q[(int)(qo + e)] * c.K[(int)(ko + e)];
                    raw[j] = dot * c.Scale;
                    s[j] = c.SoftCap > 0 ? c.SoftCap * Math.Tanh(raw[j] / c.SoftCap) : raw[j];
                    max = Math.Max(max, s[j]);
                }
                if (double.IsNegativeInfinity(max)) continue; // no visible key: zeros, no gradient
                double sum = 0;
                for (int j = 0; j < t; j++) { p[j] = Math.Exp(s[j] - max); sum += p[j]; }
                for (int j = 0; j < t; j++) p[j] /= sum;
                for (int j = 0; j < t; j++)
                {
                    if (p[j] == 0) continue;
                    long vo = ((long)bi * t + j) * hkv * d + kv * d;
                    for (int e = 0; e < d; e++) r.O[qo + e] += p[j] * c.V[(int)(vo + e)];
                }
                if (probe is null) continue;
                double pdp = 0;
                for (int j = 0; j < t; j++)
                {
                    dp[j] = 0;
                    if (p[j] == 0) continue;
                    long vo = ((long)bi * t + j) * hkv * d + kv * d;
                    for (int e = 0; e < d; e++)
                    {
                        dp[j] += probe[(int)(qo + e)] * (double)c.V[(int)(vo + e)];
                        r.Dv[vo + e] += p[j] * probe[(int)(qo + e)];
                    }
                    pdp += p[j] * dp[j];
                }
                for (int j = 0; j < t; j++)
                {
                    if (p[j] == 0) continue;
                    double ds = p[j] * (dp[j] - pdp);
                    if (c.SoftCap > 0) { double th = Math.Tanh(raw[j] / c.SoftCap); ds *= 1 - th * th; }
                    ds *= c.Scale;
                    long ko = ((long)bi * t + j) * hkv * d + kv * d;
                    for (int e = 0; e < d; e++)
                    {
                        r.Dq[qo + e] += ds * c.K[(int)(ko + e)];
                        r.Dk[ko + e] += ds * c.Q[(int)(qo + e)];
                    }
                }
            }
            return r;
        }
    }

    public sealed class Case : IDisposable
    {
        public required Tensor Q, K, V;
        public Tensor? Mask;
        public int B, T, Hq, Hkv, D, Window;
        public float Scale, SoftCap;

        public static Case Make(int seed, int b, int t, int hq, int hkv, int d, float softCap, int window, MaskKind mask, float inputScale = 1f)
        {
            var rng = new Random(seed);
            var c = new Case
            {
                Q = TestUtil.Random(rng, new Shape(b, t, hq * d), inputScale),
                K = TestUtil.Random(rng, new Shape(b, t, hkv * d), inputScale),
                V = TestUtil.Random(rng, new Shape(b, t, hkv * d)),
                B = b, T = t, Hq = hq, Hkv = hkv, D = d, Window = window, SoftCap = softCap,
                Scale = 1f / MathF.Sqrt(d),
            };
            if (mask != MaskKind.None)
            {
                c.Mask = Tensor.Zeros(b, t);
                for (int i = 0; i < b; i++)
                {
                    // Row 0 keeps every token; the others are right-padded to a random length.
                    int len = i == 0 ? t : 1 + rng.Next(t);
                    for (int j = 0; j < len; j++) c.Mask[i, j] = 1f;
                    if (mask is MaskKind.Holes or MaskKind.FullyMaskedRow)
                        for (int j = 0; j < len; j++) if (rng.Next(4) == 0) c.Mask[i, j] = 0f; // left padding and gaps
                }
                if (mask == MaskKind.FullyMaskedRow)
                {
                    for (int j = 0; j < t; j++) c.Mask[b - 1, j] = 0f;
                    for (int j = 0; j < Math.Min(5, t); j++) c.Mask[0, j] = 0f; // row 0: its first queries see nothing
                }
            }
            return c;
        }

        public Tensor Run() => Ops.CausalAttention(Q, K, V, Hq, Hkv, Scale, SoftCap, Window, Mask);

        public void Dispose()
        {
            Q.Dispose(); K.Dispose(); V.Dispose(); Mask?.Dispose();
        }
    }

    public static readonly TheoryData<int, int, int, int, int, float, int, MaskKind> Cases = new()
    {
        // b, t, Hq, Hkv, d, softCap, window, mask
        { 1, 1, 1, 1, 1, 0f, 0, MaskKind.None },
        { 2, 7, 3, 1, 5, 0f, 0, MaskKind.RightPadding },
        { 2, 9, 4, 2, 3, 0f, 3, MaskKind.None },
        { 1, 33, 2, 2, 16, 0f, 0, MaskKind.None },
        { 2, 23, 6, 3, 8, 2f, 0, MaskKind.Holes },
        { 2, 101, 4, 2, 7, 0f, 0, MaskKind.RightPadding },       // two query blocks (the second of 5 rows), ragged diagonal chunks
        { 2, 197, 3, 1, 9, 3f, 0, MaskKind.RightPadding },       // three blocks, soft cap, GQA 3:1
        { 1, 250, 2, 1, 17, 0f, 37, MaskKind.Holes },            // window shorter than a block: later blocks start past key 0
        { 2, 200, 2, 2, 33, 0f, 130, MaskKind.RightPadding },    // window longer than a block
        { 3, 65, 2, 2, 6, 5f, 20, MaskKind.FullyMaskedRow },     // rows and queries that see nothing
        { 1, 120, 2, 1, 80, 0f, 0, MaskKind.None },
        { 1, 97, 5, 5, 64, 0f, 0, MaskKind.None },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReferenceAtEveryLevel(int b, int t, int hq, int hkv, int d, float softCap, int window, MaskKind mask)
    {
        using var c = Case.Make(b * 7 + t, b, t, hq, hkv, d, softCap, window, mask, inputScale: 2f);
        var expected = Reference.Compute(c, null).O;
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = c.Run();
            Numerics.AssertClose(expected, y.Span, relative: 2e-5, absolute: 2e-6, what: $"attention {level}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesReferenceAtEveryLevel(int b, int t, int hq, int hkv, int d, float softCap, int window, MaskKind mask)
    {
        using var c = Case.Make(b * 5 + t, b, t, hq, hkv, d, softCap, window, mask, inputScale: 2f);
        using var probe = TestUtil.Random(new Random(t), new Shape(b, t, hq * d));
        var expected = Reference.Compute(c, probe);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            foreach (var x in new[] { c.Q, c.K, c.V }) { x.RequiresGrad = true; x.Grad?.Dispose(); x.Grad = null; }
            using (var tape = new Tape())
            using (tape.Activate())
                tape.Backward(c.Run(), probe);
            Numerics.AssertClose(expected.Dq, c.Q.Grad!.Span, relative: 1e-4, absolute: 1e-5, what: $"dq {level}");
            Numerics.AssertClose(expected.Dk, c.K.Grad!.Span, relative: 1e-4, absolute: 1e-5, what: $"dk {level}");
            Numerics.AssertClose(expected.Dv, c.V.Grad!.Span, relative: 1e-4, absolute: 1e-5, what: $"dv {level}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesFiniteDifferences(int b, int t, int hq, int hkv, int d, float softCap, int window, MaskKind mask)
    {
        if ((long)b * t * t * hq * d > 400_000) return; // the reference test covers the large ones
        using var c = Case.Make(b * 11 + t, b, t, hq, hkv, d, softCap, window, mask);
        TestUtil.CheckGradients(new Random(2), c.Run, [c.Q, c.K, c.V], h: 1e-2f, maxChecks: t > 30 ? 24 : 64);
    }

    [Fact]
    public void BackwardAtEveryLevelMatchesFiniteDifferences()
    {
        using var c = Case.Make(77, 2, 21, 4, 2, 5, softCap: 1.5f, window: 6, MaskKind.Holes);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            TestUtil.CheckGradients(new Random(3), c.Run, c.Q, c.K, c.V);
        }
    }

    [Fact]
    public void GroupedQueryAttentionEqualsExplicitlyRepeatedKeysAndValues()
    {
        int b = 2, t = 75, hq = 6, hkv = 2, d = 12, group = hq / hkv;
        using var c = Case.Make(3, b, t, hq, hkv, d, softCap: 0f, window: 0, MaskKind.RightPadding);
        // kr, vr: [B, T, Hq·D], head h a copy of kv head h / group (Hugging Face repeat_kv).
        using var kr = Tensor.Zeros(b, t, hq * d);
        using var vr = Tensor.Zeros(b, t, hq * d);
        for (int r = 0; r < b * t; r++)
            for (int h = 0; h < hq; h++)
                for (int e = 0; e < d; e++)
                {
                    kr[r * hq * d + h * d + e] = c.K[r * hkv * d + h / group * d + e];
                    vr[r * hq * d + h * d + e] = c.V[r * hkv * d + h / group * d + e];
                }
        using var probe = TestUtil.Random(new Random(5), new Shape(b, t, hq * d));
        foreach (var x in new[] { c.Q, c.K, c.V, kr, vr }) x.RequiresGrad = true;
        float[] yGrouped, yRepeated;
        using (var tape = new Tape())
        using (tape.Activate())
        {
            var y = c.Run();
            yGrouped = y.ToArray();
            tape.Backward(y, probe);
        }
        var dqGrouped = c.Q.Grad!.ToArray();
        c.Q.Grad.Clear();
        using (var tape = new Tape())
        using (tape.Activate())
        {
            var y = Ops.CausalAttention(c.Q, kr, vr, hq, hq, c.Scale, 0f, 0, c.Mask);
            yRepeated = y.ToArray();
            tape.Backward(y, probe);
        }
        Assert.Equal(yRepeated, yGrouped);
        using var dqG = Tensor.FromArray(dqGrouped, b, t, hq * d);
        Numerics.AssertClose(TestUtil.ToDouble(c.Q.Grad!), dqG.Span, relative: 1e-6, absolute: 1e-6, what: "dq");
        // dk of a kv head = Σ over its query heads of the repeated copy's dk.
        var dk = new double[c.K.Length];
        var dv = new double[c.V.Length];
        for (int r = 0; r < b * t; r++)
            for (int h = 0; h < hq; h++)
                for (int e = 0; e < d; e++)
                {
                    dk[r * hkv * d + h / group * d + e] += kr.Grad![r * hq * d + h * d + e];
                    dv[r * hkv * d + h / group * d + e] += vr.Grad![r * hq * d + h * d + e];
                }
        Numerics.AssertClose(dk, c.K.Grad!.Span, relative: 1e-5, absolute: 1e-5, what: "dk");
        Numerics.AssertClose(dv, c.V.Grad!.Span, relative: 1e-5, absolute: 1e-5, what: "dv");
    }

    [Theory]
    [InlineData(0f, 0)]
    [InlineData(4f, 9)]
    public void RightPaddedRowGivesTheUnpaddedRowsOutputsAndGradients(float softCap, int window)
    {
        // Batch row 1 has 41 real tokens and 30 padding tokens with arbitrary values; alone it is [1, 41].
        int t = 71, len = 41, hq = 4, hkv = 2, d = 10;
        using var c = Case.Make(8, 2, t, hq, hkv, d, softCap, window, MaskKind.None);
        c.Mask = Tensor.Zeros(2, t);
        for (int j = 0; j < t; j++) c.Mask[0, j] = 1f;
        for (int j = 0; j < len; j++) c.Mask[1, j] = 1f;
        Tensor Row1(Tensor x, int n)
        {
            int w = x.Shape[2];
            var r = Tensor.Zeros(1, n, w);
            for (int i = 0; i < n * w; i++) r[i] = x[t * w + i];
            return r;
        }
        using var q1 = Row1(c.Q, len);
        using var k1 = Row1(c.K, len);
        using var v1 = Row1(c.V, len);
        // Gradient of a loss that ignores padded positions (zero probe there).
        using var probe = TestUtil.Random(new Random(9), c.Q.Shape);
        for (int i = (t + len) * hq * d; i < probe.Length; i++) probe[i] = 0f;
        using var probe1 = Row1(probe, len);

        foreach (var x in new[] { c.Q, c.K, c.V, q1, k1, v1 }) x.RequiresGrad = true;
        Tensor y;
        using var tape = new Tape();
        using (tape.Activate())
        {
            y = c.Run();
            tape.Backward(y, probe);
        }
        using var tape1 = new Tape();
        Tensor y1;
        using (tape1.Activate())
        {
            y1 = Ops.CausalAttention(q1, k1, v1, hq, hkv, c.Scale, softCap, window, null);
            tape1.Backward(y1, probe1);
        }
        int wq = hq * d, wk = hkv * d;
        static void Near(float expected, float actual, double tol, string what)
        {
            if (!(Math.Abs(expected - actual) <= tol * (1 + Math.Abs(expected)))) Assert.Fail($"{what}: {expected:G9} vs {actual:G9}");
        }
        for (int i = 0; i < len * wq; i++) Near(y1[i], y[t * wq + i], 1e-6, $"y[{i}]");
        for (int i = 0; i < len * wq; i++) Near(q1.Grad![i], c.Q.Grad![t * wq + i], 1e-5, $"dq[{i}]");
        for (int i = 0; i < len * wk; i++)
        {
            Near(k1.Grad![i], c.K.Grad![t * wk + i], 1e-5, $"dk[{i}]");
            Near(v1.Grad![i], c.V.Grad![t * wk + i], 1e-5, $"dv[{i}]");
        }
        for (int i = (t + len) * wk; i < c.K.Length; i++)
        {
            Assert.Equal(0f, c.K.Grad![i]); // padded keys get nothing
            Assert.Equal(0f, c.V.Grad![i]);
        }
    }

    [Fact]
    public void QueriesThatSeeNoKeyGiveZerosAndZeroGradientWithoutNaN()
    {
        using var c = Case.Make(4, 3, 40, 2, 1, 4, softCap: 0f, window: 0, MaskKind.FullyMaskedRow);
        foreach (var x in new[] { c.Q, c.K, c.V }) x.RequiresGrad = true;
        using var probe = TestUtil.Random(new Random(1), c.Q.Shape);
        using var tape = new Tape();
        using (tape.Activate())
        {
            var y = c.Run();
            // Batch row 2 is all padding; row 0's first 5 queries see no key (keys 0–4 are padding).
            for (int i = 2 * 40 * 8; i < y.Length; i++) Assert.Equal(0f, y[i]);
            for (int i = 0; i < 5 * 8; i++) Assert.Equal(0f, y[i]);
            tape.Backward(y, probe);
        }
        for (int i = 2 * 40 * 8; i < c.Q.Length; i++) Assert.Equal(0f, c.Q.Grad![i]);
        for (int i = 0; i < 5 * 8; i++) Assert.Equal(0f, c.Q.Grad![i]);
        foreach (var g in new[] { c.Q.Grad!, c.K.Grad!, c.V.Grad! })
            Assert.All(g.ToArray(), x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void ForwardAndBackwardAreBitIdenticalTwiceAndOnOneThread()
    {
        using var c = Case.Make(9, 4, 150, 6, 2, 16, softCap: 0f, window: 0, MaskKind.RightPadding);
        using var probe = TestUtil.Random(new Random(4), c.Q.Shape);
        float[][] RunOnce()
        {
            foreach (var t in new[] { c.Q, c.K, c.V }) { t.RequiresGrad = true; t.Grad?.Clear(); }
            using var tape = new Tape();
            using var _ = tape.Activate();
            var y = c.Run();
            tape.Backward(y, probe);
            return [y.ToArray(), c.Q.Grad!.ToArray(), c.K.Grad!.ToArray(), c.V.Grad!.ToArray()];
        }
        var first = RunOnce();
        var second = RunOnce();
        // Inside a pool job nested parallel loops run serially: the same op on one thread.
        float[][]? serial = null;
        var job = new OneShareJob(() => serial = RunOnce());
        WorkerPool.Default.For(WorkerPool.Default.Threads, ref job);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
            Assert.Equal(first[i], serial![i]);
        }
    }

    private struct OneShareJob(Action action) : IParallelJob
    {
        public readonly void Execute(int start, int end)
        {
            if (start == 0) action();
        }
    }

    public static readonly TheoryData<float, int> CacheCases = new() { { 0f, 0 }, { 3f, 0 }, { 0f, 5 }, { 2.5f, 12 } };

    [Theory]
    [MemberData(nameof(CacheCases))]
    public void CachedAttentionEqualsCausalAttentionOnThePrefix(float softCap, int window)
    {
        // Rows of lengths 1, 17, 40 (the capacity) and 70-slot caches with garbage after each length.
        int b = 4, cap = 70, hq = 6, hkv = 2, d = 20;
        int[] lengths = [1, 17, 70, 33];
        var rng = new Random(11);
        using var k = TestUtil.Random(rng, new Shape(b, cap, hkv * d), 2f);
        using var v = TestUtil.Random(rng, new Shape(b, cap, hkv * d));
        using var qAll = TestUtil.Random(rng, new Shape(b, cap, hq * d), 2f);
        using var mask = Tensor.Zeros(b, cap);
        using var q = Tensor.Zeros(b, 1, hq * d);
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < lengths[i]; j++) mask[i, j] = 1f;
            for (int e = 0; e < hq * d; e++) q[i * hq * d + e] = qAll[(i * cap + lengths[i] - 1) * hq * d + e];
        }
        float scale = 0.21f;
        using var full = Ops.CausalAttention(qAll, k, v, hq, hkv, scale, softCap, window, mask);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = Ops.CachedAttention(q, k, v, lengths, hq, hkv, scale, softCap, window);
            for (int i = 0; i < b; i++)
                for (int e = 0; e < hq * d; e++)
                {
                    float expected = full[(i * cap + lengths[i] - 1) * hq * d + e], actual = y[i * hq * d + e];
                    Assert.True(Math.Abs(expected - actual) <= 1e-6 + 1e-6 * Math.Abs(expected), $"{level} row {i}[{e}]: {expected:G9} vs {actual:G9}");
                }
        }
    }

    [Fact]
    public void WriteCacheAppendsAtEachRowsPosition()
    {
        using var cache = Tensor.Zeros(2, 5, 3);
        using var values = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 2, 2, 3);
        Ops.WriteCache(cache, values, [0, 3]);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8, 9, 10, 11, 12], cache.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.WriteCache(cache, values, [0, 4]));
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        using var q = Tensor.Zeros(2, 3, 12);
        using var k = Tensor.Zeros(2, 3, 8);
        using var k4 = Tensor.Zeros(2, 3, 4);
        Assert.Contains("multiple", Assert.Throws<ArgumentException>(() => Ops.CausalAttention(q, k, k, 3, 2, 0.5f, 0f, 0, null)).Message);
        Assert.Contains("key width", Assert.Throws<ArgumentException>(() => Ops.CausalAttention(q, k, k, 4, 2, 0.5f, 0f, 0, null)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.CausalAttention(q, k4, k4, 3, 1, 0f, 0f, 0, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.CausalAttention(q, k4, k4, 3, 1, 0.5f, -1f, 0, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.CausalAttention(q, k4, k4, 3, 1, 0.5f, 0f, -2, null));
        using var mask = Tensor.Zeros(2, 4);
        Assert.Contains("[2, 3]", Assert.Throws<ArgumentException>(() => Ops.CausalAttention(q, k4, k4, 3, 1, 0.5f, 0f, 0, mask)).Message);
        using var q1 = Tensor.Zeros(2, 1, 12);
        using var cache = Tensor.Zeros(2, 5, 4);
        Assert.Contains("capacity", Assert.Throws<ArgumentOutOfRangeException>(() => Ops.CachedAttention(q1, cache, cache, [3, 6], 3, 1, 0.5f, 0f, 0)).Message);
    }
}
