using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Optim;
using DroSharp.Tensors.Threading;
using static DroSharp.Tensors.Tests.Optim.OptimTestUtil;

namespace DroSharp.Tensors.Tests.Optim;

[Collection(SimdOverrideCollection.Name)]
public class AdafactorTests
{
    private static double Rms(float[] x) => Math.Sqrt(x.Sum(v => (double)v * v) / x.Length);

    [Fact]
    public void FirstStepOfAVectorIsSignTimesParameterScaledRate()
    {
        // Step 1: β2_1 = 1 − 1^−0.8 = 0, so v = g² + eps1 and û = g/|g| = ±1, whose RMS is 1 (no clipping);
        // lr_1 = lr·max(1e-3, RMS(p)).
        var rng = new Random(4);
        var p = Parameter(rng, "v", new Shape(33));
        var p0 = p.ToArray();
        SetGradients([p], rng);
        var g = p.Grad!.ToArray();
        using var opt = new Adafactor([p]);
        opt.Step(0.01);
        double lrT = 0.01 * Math.Max(1e-3, Rms(p0));
        for (int i = 0; i < p0.Length; i++) Assert.Equal(p0[i] - lrT * Math.Sign(g[i]), p[i], 6);
    }

    [Fact]
    public void FirstStepOfARankOneGradientIsExactlyFactoredToItsSign()
    {
        // g = a ⊗ b: row_r = a_r²·mean(b²), col_c = b_c²·mean(a²), mean(row) = mean(a²)·mean(b²), so
        // rsqrt(row_r/mean(row))·rsqrt(col_c) = 1/(|a_r||b_c|) and û = sign(g). Small eps2 floor unused.
        var rng = new Random(8);
        var p = Parameter(rng, "w", new Shape(5, 9));
        var p0 = p.ToArray();
        var g = p.EnsureGrad();
        var a = Enumerable.Range(0, 5).Select(_ => rng.NextDouble() + 0.2).ToArray();
        var b = Enumerable.Range(0, 9).Select(_ => (rng.NextDouble() - 0.5) * 3).ToArray();
        for (int r = 0; r < 5; r++) for (int c = 0; c < 9; c++) g[r, c] = (float)(a[r] * b[c]);
        using var opt = new Adafactor([p], scaleParameter: false);
        opt.Step(0.02);
        for (int i = 0; i < p0.Length; i++) Assert.Equal(p0[i] - 0.02 * Math.Sign(g[i]), p[i], 5);
    }

    public static TheoryData<double?, double, bool, double> Settings => new()
    {
        { null, 0.0, true, 1.0 },    // HF defaults with an external learning rate
        { 0.9, 0.1, false, 1.0 },    // first moment, weight decay, no parameter scaling
        { 0.5, 0.0, true, 0.3 },     // a low clip threshold: update clipping on every step
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void MatchesDoubleReferenceOverStepsIncludingASkippedParameter(double? beta1, double weightDecay, bool scaleParameter, double clip)
    {
        var ps = MixedParameters(17);
        var reference = new ReferenceAdafactor(ToDouble(ps), ps.Select(p => Enumerable.Range(0, p.Shape.Rank).Select(a => p.Shape[a]).ToArray()).ToArray(),
            clip: clip, beta1: beta1, weightDecay: weightDecay, scaleParameter: scaleParameter);
        using var opt = new Adafactor(ps, clipThreshold: clip, beta1: beta1, weightDecay: weightDecay, scaleParameter: scaleParameter);
        var rng = new Random(6);
        double[] lrs = [0.05, 0.02, 0.1, 0.03, 0.04];
        for (int s = 0; s < lrs.Length; s++)
        {
            // At step 1 the factored 2-D parameter gets no gradient, at step 3 the one-element one.
            SetGradients(ps, rng, s == 1 ? [0] : s == 3 ? [3] : []);
            reference.Step(lrs[s], ps.Select(GradOf).ToArray());
            opt.Step(lrs[s]);
        }
        var state = opt.ExportState();
        for (int i = 0; i < ps.Length; i++)
        {
            string name = ps[i].Name!;
            Numerics.AssertClose(reference.P[i], ps[i].Span, relative: 2e-6, absolute: 2e-7, what: name);
            Assert.Equal(reference.Steps[i], opt.ParameterStepCount(i));
            if (reference.Row[i] is { } row)
            {
                Numerics.AssertClose(row, state.Tensors["exp_avg_sq_row." + name].Span, relative: 2e-5, absolute: 0, what: "exp_avg_sq_row." + name);
                Numerics.AssertClose(reference.Col[i]!, state.Tensors["exp_avg_sq_col." + name].Span, relative: 2e-5, absolute: 0, what: "exp_avg_sq_col." + name);
            }
            else Numerics.AssertClose(reference.V[i]!, state.Tensors["exp_avg_sq." + name].Span, relative: 2e-5, absolute: 0, what: "exp_avg_sq." + name);
            if (reference.M[i] is { } m) Numerics.AssertClose(m, state.Tensors["exp_avg." + name].Span, relative: 2e-5, absolute: 1e-8, what: "exp_avg." + name);
        }
        Assert.Equal(4, opt.ParameterStepCount(0));
        DisposeAll(ps);
    }

    [Fact]
    public void StateHasHuggingFaceSlotNamesAndShapes()
    {
        var ps = MixedParameters(5);
        using var opt = new Adafactor(ps, beta1: 0.9);
        SetGradients(ps, new Random(1));
        opt.Step(1e-3);
        var state = opt.ExportState();
        Assert.Equal(new Shape(7), state.Tensors["exp_avg_sq_row.encoder.block.0.layer.0.SelfAttention.q.weight"].Shape);
        Assert.Equal(new Shape(33), state.Tensors["exp_avg_sq_col.encoder.block.0.layer.0.SelfAttention.q.weight"].Shape);
        Assert.Equal(new Shape(2, 5), state.Tensors["exp_avg_sq_row.stack.weight"].Shape);
        Assert.Equal(new Shape(2, 9), state.Tensors["exp_avg_sq_col.stack.weight"].Shape);
        Assert.Equal(new Shape(129), state.Tensors["exp_avg_sq.value_head.bias"].Shape);
        Assert.Equal(new Shape(7, 33), state.Tensors["exp_avg.encoder.block.0.layer.0.SelfAttention.q.weight"].Shape);
        Assert.Equal(4 * 2 + 2, state.Tensors.Count);
        DisposeAll(ps);
    }

    [Fact]
    public void ResultsDoNotDependOnSimdWidthOrThreadCount()
    {
        Tensor[] Run(SimdLevel level, int threads)
        {
            var rng = new Random(23);
            // 300·257 spans several parallel chunks and column blocks; 3·7·33 is a batch of factored matrices.
            Tensor[] ps = [Parameter(rng, "big", new Shape(300, 257)), Parameter(rng, "batched", new Shape(3, 7, 33)), Parameter(rng, "long", new Shape(40001))];
            using var pool = new WorkerPool(threads);
            using var opt = new Adafactor(ps, beta1: 0.9, weightDecay: 0.01) { Pool = pool };
            using (KernelDispatch.Override(level))
            {
                for (int s = 0; s < 3; s++)
                {
                    SetGradients(ps, rng);
                    opt.Step(0.01 * (s + 1));
                }
            }
            return ps;
        }
        var expected = Run(SimdLevel.Scalar, 1);
        foreach (var (level, threads) in new[] { (SimdLevel.Vector256, 2), (SimdLevel.Vector512, 3), (KernelDispatch.Hardware, 2) })
        {
            var actual = Run(level, threads);
            for (int i = 0; i < expected.Length; i++) AssertBitwiseEqual(expected[i], actual[i], $"{expected[i].Name} at {level}/{threads} threads");
            DisposeAll(actual);
        }
        DisposeAll(expected);
    }

    [Fact]
    public void RejectsBadHyperparameters()
    {
        var ps = MixedParameters(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adafactor(ps, decayRate: 0.8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adafactor(ps, clipThreshold: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adafactor(ps, beta1: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adafactor(ps, eps1: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adafactor(ps, weightDecay: double.PositiveInfinity));
        DisposeAll(ps);
    }
}
