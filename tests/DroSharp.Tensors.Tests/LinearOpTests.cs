using DroSharp.Tensors.Autograd;

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
}
