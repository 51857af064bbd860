using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

/// <summary>
/// <see cref="Ops.LoraLinear(Tensor, Tensor, Tensor, Tensor, float, float, ulong)"/>: y = x·Wᵀ + s·(drop(x)·Aᵀ)·Bᵀ
/// against a double-precision reference at every SIMD level, its backward against central finite
/// differences, and the bfloat16-base variant against the float32 op on the widened weight.
/// </summary>
public class LoraLinearOpTests
{
    /// <summary>y[i,o] = Σ_k x[i,k]·W[o,k] + s·Σ_j B[o,j]·Σ_k A[j,k]·mask(i,k)·x[i,k]/(1−p), in double.</summary>
    private static double[] Reference(Tensor x, Tensor w, Tensor a, Tensor b, float s, float p, ulong seed)
    {
        int inF = w.Shape[1], outF = w.Shape[0], r = a.Shape[0], rows = x.Length / inF;
        var y = new double[rows * outF];
        var xd = new double[inF];
        for (int i = 0; i < rows; i++)
        {
            for (int k = 0; k < inF; k++)
                xd[k] = p == 0 || DropoutKernel.Keeps(seed, (long)i * inF + k, p) ? x[i * inF + k] / (p == 0 ? 1.0 : 1.0 - p) : 0.0;
            var u = new double[r];
            for (int j = 0; j < r; j++)
                for (int k = 0; k < inF; k++) u[j] += a[j * inF + k] * xd[k];
            for (int o = 0; o < outF; o++)
            {
                double acc = 0;
                for (int k = 0; k < inF; k++) acc += (double)x[i * inF + k] * w[o * inF + k];
                double low = 0;
                for (int j = 0; j < r; j++) low += b[o * r + j] * u[j];
                y[i * outF + o] = acc + s * low;
            }
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 0f)]
    [InlineData(7, 5, 3, 2, 0f)]
    [InlineData(33, 17, 9, 4, 0.3f)]
    [InlineData(40, 45, 70, 8, 0.1f)]
    public void ForwardMatchesADoubleReferenceAtEverySimdLevel(int rows, int inF, int outF, int r, float p)
    {
        var rng = new Random(100 + rows);
        using var x = TestUtil.Random(rng, new Shape(rows, inF));
        using var w = TestUtil.Random(rng, new Shape(outF, inF));
        using var a = TestUtil.Random(rng, new Shape(r, inF));
        using var b = TestUtil.Random(rng, new Shape(outF, r));
        const float s = 1.75f;
        const ulong seed = 0xABCDEF12345UL;
        var expected = Reference(x, w, a, b, s, p, seed);
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            using var y = Ops.LoraLinear(x, w, a, b, s, p, seed);
            Assert.Equal(new Shape(rows, outF), y.Shape);
            Numerics.AssertClose(expected, y.Span, relative: 1e-4, absolute: 1e-4, what: $"{level}");
        }
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 0f)]
    [InlineData(7, 5, 3, 2, 0f)]
    [InlineData(9, 11, 6, 3, 0.4f)]
    public void BackwardMatchesFiniteDifferences(int rows, int inF, int outF, int r, float p)
    {
        var rng = new Random(200 + rows);
        using var x = TestUtil.Random(rng, new Shape(2, rows, inF));
        using var w = TestUtil.Random(rng, new Shape(outF, inF));
        using var a = TestUtil.Random(rng, new Shape(r, inF));
        using var b = TestUtil.Random(rng, new Shape(outF, r));
        foreach (var t in new[] { x, w, a, b }) t.Name = "t";
        TestUtil.CheckGradients(rng, () => Ops.LoraLinear(x, w, a, b, 0.8f, p, 99), x, w, a, b);

        // Through an intermediate input used twice (the first gradient overwrites, the second
        // accumulates), with a frozen W.
        w.RequiresGrad = false;
        w.Grad = null;
        TestUtil.CheckGradients(rng, () =>
        {
            var xi = Ops.Scale(x, 1.5f);
            return Ops.Add(Ops.LoraLinear(xi, w, a, b, 0.8f, p, 7), Ops.LoraLinear(xi, w, a, b, 2f, p, 8));
        }, x, a, b);
        Assert.Null(w.Grad);
    }

    /// <summary>The input's gradient alone (frozen everything, e.g. an adapter that is evaluated only) is right too.</summary>
    [Fact]
    public void InputGradientWithEveryWeightFrozen()
    {
        var rng = new Random(5);
        using var x = TestUtil.Random(rng, new Shape(6, 7));
        using var w = TestUtil.Random(rng, new Shape(4, 7));
        using var a = TestUtil.Random(rng, new Shape(2, 7));
        using var b = TestUtil.Random(rng, new Shape(4, 2));
        TestUtil.CheckGradients(rng, () => Ops.LoraLinear(x, w, a, b, 1.3f, 0.25f, 3), x);
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
    }

    [Theory]
    [InlineData(7, 5, 3, 2, 0f)]
    [InlineData(40, 45, 70, 8, 0.2f)]
    public void BFloat16BaseIsBitIdenticalToTheFloat32OpOnTheWidenedWeight(int rows, int inF, int outF, int r, float p)
    {
        var rng = new Random(300 + rows);
        using var x = TestUtil.Random(rng, new Shape(rows, inF));
        using var w32 = TestUtil.Random(rng, new Shape(outF, inF));
        using var w16 = BFloat16Matrix.FromFloat32(w32);
        using var wide = w16.ToFloat32();
        using var a = TestUtil.Random(rng, new Shape(r, inF));
        using var b = TestUtil.Random(rng, new Shape(outF, r));
        using var probe = TestUtil.Random(rng, new Shape(rows, outF));
        foreach (var t in new[] { x, a, b }) t.RequiresGrad = true;
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            Tensor[] Run(Func<Tensor> forward)
            {
                foreach (var t in new[] { x, a, b }) t.Grad = null;
                using var tape = new Tape();
                using var __ = tape.Activate();
                var y = forward();
                tape.Backward(y, probe);
                return [y.Clone(), x.Grad!.Clone(), a.Grad!, b.Grad!];
            }
            var bf = Run(() => Ops.LoraLinear(x, w16, a, b, 0.5f, p, 11));
            var fp = Run(() => Ops.LoraLinear(x, wide, a, b, 0.5f, p, 11));
            for (int i = 0; i < bf.Length; i++) TestUtil.AssertBitIdentical(fp[i], bf[i]);
            Assert.Null(wide.Grad);
            foreach (var t in bf.Concat(fp)) t.Dispose();
        }
    }

    [Fact]
    public void WithoutATapeItAllocatesOnlyTheOutputAndAgreesWithTheTape()
    {
        var rng = new Random(9);
        using var x = TestUtil.Random(rng, new Shape(5, 6));
        using var w = TestUtil.Random(rng, new Shape(4, 6));
        using var a = TestUtil.Random(rng, new Shape(3, 6));
        using var b = TestUtil.Random(rng, new Shape(4, 3));
        using var free = Ops.LoraLinear(x, w, a, b, 2f, 0.5f, 1);
        Assert.True(free.OwnsMemory);
        using var tape = new Tape(recording: false);
        using (tape.Activate())
        {
            var y = Ops.LoraLinear(x, w, a, b, 2f, 0.5f, 1);
            TestUtil.AssertBitIdentical(free, y);
            Assert.Equal(0, tape.Count);
        }
    }

    [Fact]
    public void ShapeErrorsNameTheTensors()
    {
        var rng = new Random(1);
        using var x = TestUtil.Random(rng, new Shape(2, 6));
        using var w = TestUtil.Random(rng, new Shape(4, 6));
        w.Name = "model.layers.0.mlp.up_proj.weight";
        using var a = TestUtil.Random(rng, new Shape(3, 5));
        using var b = TestUtil.Random(rng, new Shape(4, 3));
        a.Name = "model.layers.0.mlp.up_proj.lora_A.policy.weight";
        var e = Assert.Throws<ArgumentException>(() => Ops.LoraLinear(x, w, a, b, 1f, 0f, 0));
        Assert.Contains("lora_A", e.Message);
        Assert.Contains("up_proj.weight", e.Message);
        using var a2 = TestUtil.Random(rng, new Shape(3, 6));
        using var b2 = TestUtil.Random(rng, new Shape(4, 2));
        Assert.Throws<ArgumentException>(() => Ops.LoraLinear(x, w, a2, b2, 1f, 0f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.LoraLinear(x, w, a2, b, 1f, 1f, 0));
    }
}
