using DroSharp.Tensors.Autograd;

namespace DroSharp.Tensors.Tests;

public class TapeTests
{
    [Fact]
    public void SecondBackwardOnTheSameTapeDoesNotReplayTheFirst()
    {
        var rng = new Random(1);
        using var w = TestUtil.Random(rng, new Shape(5, 4));
        using var x = TestUtil.Random(rng, new Shape(3, 4));
        w.RequiresGrad = true;

        float[] Separately()
        {
            w.Grad?.Clear();
            foreach (int which in new[] { 0, 1 })
            {
                using var tape = new Tape();
                using var _ = tape.Activate();
                var h = Ops.Linear(x, w); // shared ancestor
                tape.Backward(which == 0 ? Ops.Sum(Ops.Relu(h)) : Ops.Mean(Ops.Mul(h, h)));
            }
            return w.Grad!.ToArray();
        }

        float[] OnOneTape()
        {
            w.Grad?.Clear();
            using var tape = new Tape();
            using var _ = tape.Activate();
            var h = Ops.Linear(x, w);
            var a = Ops.Sum(Ops.Relu(h));
            var b = Ops.Mean(Ops.Mul(h, h));
            tape.Backward(a);
            tape.Backward(b);
            return w.Grad!.ToArray();
        }

        var expected = Separately();
        var actual = OnOneTape();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    [Fact]
    public void BackwardFromSomethingThatNeedsNoGradientIsAClearError()
    {
        using var x = Tensor.Zeros(2);
        using var tape = new Tape();
        using var _ = tape.Activate();
        var s = Ops.Sum(x);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(s));
    }

    [Fact]
    public void OpsWithoutATapeRecordNothingAndOwnTheirOutput()
    {
        using var x = Tensor.Zeros(3);
        x.RequiresGrad = true;
        using var y = Ops.Scale(x, 2f);
        Assert.True(y.OwnsMemory);
        Assert.False(y.RequiresGrad);
    }
}
