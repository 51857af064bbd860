using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Optim;
using DroSharp.Tensors.Threading;
using static DroSharp.Tensors.Tests.Optim.OptimTestUtil;

namespace DroSharp.Tensors.Tests.Optim;

[Collection(SimdOverrideCollection.Name)]
public class GradientClippingTests
{
    private static double ReferenceNorm(Tensor[] ps) =>
        Math.Sqrt(ps.Where(p => p.Grad is not null).Sum(p => p.Grad!.ToArray().Sum(x => (double)x * x)));

    [Fact]
    public void ReturnsGlobalNormAndScalesGradientsDownToMaxNorm()
    {
        var ps = MixedParameters(7);
        SetGradients(ps, new Random(2), 1);   // the 3-D parameter has no gradient and is skipped
        double expected = ReferenceNorm(ps);
        var before = ps.Select(p => p.Grad?.ToArray()).ToArray();
        double maxNorm = expected / 3;
        double norm = GradientClipping.ClipGlobalNorm(ps, maxNorm);
        Assert.Equal(expected, norm, 1e-9 * expected);
        double coef = maxNorm / (expected + 1e-6);
        for (int i = 0; i < ps.Length; i++)
        {
            if (before[i] is null) { Assert.Null(ps[i].Grad); continue; }
            Numerics.AssertClose(before[i]!.Select(x => x * coef).ToArray(), ps[i].Grad!.Span, relative: 1e-6, absolute: 0, what: ps[i].Name!);
        }
        Assert.Equal(maxNorm, ReferenceNorm(ps), 1e-5 * maxNorm);
        DisposeAll(ps);
    }

    [Fact]
    public void LeavesGradientsAloneBelowMaxNorm()
    {
        var ps = MixedParameters(7);
        SetGradients(ps, new Random(2));
        var before = ps.Select(p => p.Grad!.Clone()).ToArray();
        double norm = GradientClipping.ClipGlobalNorm(ps, 1e6);
        Assert.Equal(ReferenceNorm(ps), norm, 1e-9 * norm);
        Assert.Equal(norm, GradientClipping.GlobalNorm(ps));
        for (int i = 0; i < ps.Length; i++) AssertBitwiseEqual(before[i], ps[i].Grad!, ps[i].Name!);
        DisposeAll(ps);
        DisposeAll(before);
    }

    [Fact]
    public void ReportsANonFiniteNormWithoutTouchingTheGradients()
    {
        var ps = MixedParameters(7);
        SetGradients(ps, new Random(2));
        ps[2].Grad![5] = float.NaN;
        var before = ps[0].Grad!.Clone();
        Assert.True(double.IsNaN(GradientClipping.ClipGlobalNorm(ps, 1e-3)));
        AssertBitwiseEqual(before, ps[0].Grad!, "grad");
        ps[2].Grad![5] = float.PositiveInfinity;
        Assert.True(double.IsPositiveInfinity(GradientClipping.ClipGlobalNorm(ps, 1e-3)));
        AssertBitwiseEqual(before, ps[0].Grad!, "grad");
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGlobalNorm(ps, 0));
        before.Dispose();
        DisposeAll(ps);
    }

    [Fact]
    public void NormAndClippingDoNotDependOnSimdWidthOrThreadCount()
    {
        (double, Tensor) Run(SimdLevel level, int threads)
        {
            var rng = new Random(12);
            var p = Parameter(rng, "big", new Shape(70001));
            SetGradients([p], rng);
            using var pool = new WorkerPool(threads);
            using var _ = KernelDispatch.Override(level);
            double norm = GradientClipping.ClipGlobalNorm([p], 1.0, pool);
            return (norm, p);
        }
        var (n0, p0) = Run(SimdLevel.Scalar, 1);
        Assert.True(n0 > 1.0);   // so the gradients were scaled
        foreach (var (level, threads) in new[] { (SimdLevel.Vector256, 2), (SimdLevel.Vector512, 3) })
        {
            var (n, p) = Run(level, threads);
            Assert.Equal(BitConverter.DoubleToInt64Bits(n0), BitConverter.DoubleToInt64Bits(n));
            AssertBitwiseEqual(p0.Grad!, p.Grad!, $"grad at {level}/{threads}");
            DisposeAll([p]);
        }
        DisposeAll([p0]);
    }
}
