using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Optim;
using DroSharp.Tensors.Threading;
using static DroSharp.Tensors.Tests.Optim.OptimTestUtil;

namespace DroSharp.Tensors.Tests.Optim;

[Collection(SimdOverrideCollection.Name)]
public class AdamWTests
{
    [Fact]
    public void FirstStepMovesEachWeightByLearningRateTimesSignAfterDecay()
    {
        // Step 1: m̂ = g and v̂ = g², so p1 = p0·(1 − lr·wd) − lr·g/(|g| + eps).
        var rng = new Random(3);
        var p = Parameter(rng, "w", new Shape(7));
        var p0 = p.ToArray();
        SetGradients([p], rng);
        var g = p.Grad!.ToArray();
        using var opt = new AdamW([p], weightDecay: 0.01);
        opt.Step(0.1);
        for (int i = 0; i < 7; i++)
        {
            double expected = p0[i] * (1 - 0.1 * 0.01) - 0.1 * g[i] / (Math.Abs(g[i]) + 1e-8);
            Assert.Equal(expected, p[i], 6);
        }
        Assert.Equal(1, opt.StepCount);
        Assert.Equal(1, opt.ParameterStepCount(0));
    }

    [Theory]
    [InlineData(0.9, 0.999, 0.1)]
    [InlineData(0.3, 0.95, 0.0)]   // β1 < 0.5 takes torch.lerp's other branch
    public void MatchesDoubleReferenceOverStepsIncludingASkippedParameter(double beta1, double beta2, double weightDecay)
    {
        var ps = MixedParameters(11);
        var reference = new ReferenceAdamW(ToDouble(ps), beta1, beta2, 1e-8, weightDecay);
        using var opt = new AdamW(ps, beta1, beta2, 1e-8, weightDecay);
        var rng = new Random(5);
        double[] lrs = [0.01, 0.02, 0.005, 0.03, 0.01];
        for (int s = 0; s < lrs.Length; s++)
        {
            // At step 2 the 1-D parameter and the 3-D one get no gradient.
            SetGradients(ps, rng, s == 2 ? [1, 2] : []);
            reference.Step(lrs[s], ps.Select(GradOf).ToArray());
            opt.Step(lrs[s]);
        }
        var state = opt.ExportState();
        for (int i = 0; i < ps.Length; i++)
        {
            Numerics.AssertClose(reference.P[i], ps[i].Span, relative: 2e-6, absolute: 2e-7, what: ps[i].Name!);
            Numerics.AssertClose(reference.M[i], state.Tensors["exp_avg." + ps[i].Name].Span, relative: 2e-5, absolute: 1e-7, what: "exp_avg." + ps[i].Name);
            Numerics.AssertClose(reference.V[i], state.Tensors["exp_avg_sq." + ps[i].Name].Span, relative: 2e-5, absolute: 1e-9, what: "exp_avg_sq." + ps[i].Name);
            Assert.Equal(reference.Steps[i], opt.ParameterStepCount(i));
        }
        Assert.Equal(4, opt.ParameterStepCount(1));
        Assert.Equal(5, opt.StepCount);
        DisposeAll(ps);
    }

    [Fact]
    public void SkippedParameterIsLeftUntouched()
    {
        var ps = MixedParameters(2);
        using var opt = new AdamW(ps, weightDecay: 0.5);
        var rng = new Random(1);
        SetGradients(ps, rng);
        opt.Step(0.01);
        var before = ps[3].Clone();
        var mBefore = opt.ExportState().Tensors["exp_avg.scale"].Clone();
        SetGradients(ps, rng, 3);
        opt.Step(0.01);
        AssertBitwiseEqual(before, ps[3], "scale");
        AssertBitwiseEqual(mBefore, opt.ExportState().Tensors["exp_avg.scale"], "exp_avg.scale");
        Assert.Equal(1, opt.ParameterStepCount(3));
        DisposeAll(ps);
        before.Dispose();
        mBefore.Dispose();
    }

    [Fact]
    public void HuggingFaceFilterExemptsBiasesAndNormsFromDecay()
    {
        var rng = new Random(9);
        Tensor[] ps =
        [
            Parameter(rng, "decoder.block.0.layer.1.EncDecAttention.o.weight", new Shape(5, 6)),
            Parameter(rng, "decoder.final_layer_norm.weight", new Shape(6)),
            Parameter(rng, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", new Shape(4, 3)),
            Parameter(rng, "value_head.bias", new Shape(1)),
        ];
        using var opt = new AdamW(ps, weightDecay: 0.3, weightDecayFilter: WeightDecayFilter.HuggingFaceTrainer);
        Assert.Equal([true, false, false, false], Enumerable.Range(0, 4).Select(opt.DecaysParameter));
        var reference = new ReferenceAdamW(ToDouble(ps), 0.9, 0.999, 1e-8, 0.3, [true, false, false, false]);
        for (int s = 0; s < 3; s++)
        {
            SetGradients(ps, rng);
            reference.Step(0.05, ps.Select(GradOf).ToArray());
            opt.Step(0.05);
        }
        for (int i = 0; i < ps.Length; i++) Numerics.AssertClose(reference.P[i], ps[i].Span, relative: 2e-6, absolute: 2e-7, what: ps[i].Name!);
        DisposeAll(ps);
    }

    [Fact]
    public void ResultsDoNotDependOnSimdWidthOrThreadCount()
    {
        Tensor[] Run(SimdLevel level, int threads)
        {
            var rng = new Random(21);
            // 300·257 elements span several parallel chunks; 33 and 7 exercise vector tails.
            Tensor[] ps = [Parameter(rng, "big", new Shape(300, 257)), Parameter(rng, "odd", new Shape(33)), Parameter(rng, "tiny", new Shape(7))];
            using var pool = new WorkerPool(threads);
            using var opt = new AdamW(ps, weightDecay: 0.1) { Pool = pool };
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
    public void RejectsBadHyperparametersAndLearningRates()
    {
        var ps = MixedParameters(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(ps, beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(ps, beta2: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(ps, eps: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(ps, weightDecay: -1));
        using var opt = new AdamW(ps);
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.Step(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.Step(-1e-3));
        DisposeAll(ps);
    }
}
