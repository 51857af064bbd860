using DroSharp.Tensors.Autograd;

namespace DroSharp.Tensors.Tests.Autograd;

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

public sealed class GradientRecyclingTests
{
    /// <summary>
    /// A deep chain of ops: with recycling, each intermediate's gradient returns to the pool once its
    /// op's backward ran, so the arena grows by a few gradient buffers instead of one per op — and
    /// the parameters' gradients are bit-identical to a tape that keeps every intermediate gradient.
    /// </summary>
    [Fact]
    public void RecyclingKeepsGradientsAndBoundsTheArena()
    {
        var rng = new Random(5);
        using var w = TestUtil.Random(rng, new Shape(64, 64), 0.1f);
        w.RequiresGrad = true;
        using var x0 = TestUtil.Random(rng, new Shape(32, 64));
        (float[] Grad, long HighWater) Run(bool recycle)
        {
            w.Grad?.Clear();
            using var tape = new Tape { RecycleGradients = recycle };
            using (tape.Activate())
            {
                var h = x0;
                for (int i = 0; i < 40; i++) h = Ops.Add(h, Ops.Silu(Ops.Linear(h, w)));
                tape.Backward(Ops.Sum(h));
            }
            return (w.Grad!.ToArray(), tape.Arena.HighWaterBytes);
        }
        var kept = Run(recycle: false);
        var recycled = Run(recycle: true);
        Assert.Equal(kept.Grad, recycled.Grad);
        Assert.True(recycled.HighWater < 0.75 * kept.HighWater, $"arena high water {recycled.HighWater} vs {kept.HighWater} bytes");
    }
}
