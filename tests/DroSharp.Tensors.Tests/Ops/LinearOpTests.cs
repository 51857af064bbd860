using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

public class LinearOpTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(33, 17, 9)]
    public void LinearBackwardMatchesFiniteDifferences(int rows, int inF, int outF)
    {
        var rng = new Random(1234 + rows);
        using var x = TestUtil.Random(rng, new Shape(rows, inF));
        using var w = TestUtil.Random(rng, new Shape(outF, inF));
        x.RequiresGrad = true;
        w.RequiresGrad = true;
        using var probe = TestUtil.Random(rng, new Shape(rows, outF));

        // L = Σ probe ⊙ Linear(x, W): a scalar whose gradient exercises every output element.
        float Loss()
        {
            using var t = new Tape(recording: false);
            using var _ = t.Activate();
            var y = Ops.Linear(x, w);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)y[i] * probe[i];
            return (float)s;
        }

        using (var tape = new Tape())
        using (tape.Activate())
        {
            var y = Ops.Linear(x, w);
            tape.Backward(y, probe);
        }
        TestUtil.AssertGradMatchesFiniteDifference(x, Loss);
        TestUtil.AssertGradMatchesFiniteDifference(w, Loss);

        // Through an intermediate input, whose gradient buffer Linear overwrites instead of clearing
        // and accumulating; used twice, so the second use must then accumulate.
        TestUtil.CheckGradients(rng, () =>
        {
            var xi = Ops.Scale(x, 1.5f);
            return Ops.Add(Ops.Linear(xi, w), Ops.Linear(xi, w));
        }, x, w);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(33, 17, 9)]
    [InlineData(40, 45, 70)]
    public void FrozenBFloat16LinearIsBitIdenticalToLinearOnTheWidenedWeight(int rows, int inF, int outF)
    {
        var rng = new Random(77 + rows);
        using var x = TestUtil.Random(rng, new Shape(2, rows, inF));
        using var w32 = TestUtil.Random(rng, new Shape(outF, inF));
        using var w = BFloat16Matrix.FromFloat32(w32);
        using var wide = w.ToFloat32();
        using var probe = TestUtil.Random(rng, new Shape(2, rows, outF));
        x.RequiresGrad = true;
        foreach (var level in TestUtil.Levels)
        {
            using var _ = KernelDispatch.Override(level);
            (Tensor Y, Tensor Dx) Run(Func<Tensor> forward)
            {
                x.Grad = null;
                using var tape = new Tape();
                using var __ = tape.Activate();
                var y = forward();
                tape.Backward(y, probe);
                var copy = y.Clone();
                return (copy, x.Grad!);
            }
            var (y16, dx16) = Run(() => Ops.Linear(x, w));
            var (y32, dx32) = Run(() => Ops.Linear(x, wide));
            Assert.Equal(new Shape(2, rows, outF), y16.Shape);
            TestUtil.AssertBitIdentical(y32, y16);
            TestUtil.AssertBitIdentical(dx32, dx16);
            Assert.Null(wide.Grad);
            foreach (var t in new[] { y16, dx16, y32, dx32 }) t.Dispose();
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(33, 17, 9)]
    public void FrozenBFloat16LinearBackwardMatchesFiniteDifferences(int rows, int inF, int outF)
    {
        var rng = new Random(4321 + rows);
        using var x = TestUtil.Random(rng, new Shape(rows, inF));
        using var w32 = TestUtil.Random(rng, new Shape(outF, inF));
        using var w = BFloat16Matrix.FromFloat32(w32);
        TestUtil.CheckGradients(rng, () => Ops.Linear(x, w), x);

        // Through an intermediate used twice: the first gradient overwrites, the second accumulates.
        TestUtil.CheckGradients(rng, () =>
        {
            var xi = Ops.Scale(x, 1.5f);
            return Ops.Add(Ops.Linear(xi, w), Ops.Linear(xi, w));
        }, x);
    }

    [Fact]
    public void FrozenBFloat16LinearRecordsNothingWithoutAGradientAndRejectsAWrongWidth()
    {
        var rng = new Random(3);
        using var x = TestUtil.Random(rng, new Shape(4, 6));
        using var w32 = TestUtil.Random(rng, new Shape(5, 6));
        using var w = BFloat16Matrix.FromFloat32(w32);
        w.Name = "model.layers.3.self_attn.o_proj.weight";
        using (var tape = new Tape())
        using (tape.Activate())
        {
            var y = Ops.Linear(x, w);
            Assert.Equal(0, tape.Count);
            Assert.False(y.RequiresGrad);
        }
        using var bad = TestUtil.Random(rng, new Shape(4, 5));
        var e = Assert.Throws<ArgumentException>(() => Ops.Linear(bad, w));
        Assert.Contains("o_proj", e.Message);
    }
}
