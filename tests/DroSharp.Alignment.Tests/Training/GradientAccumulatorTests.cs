using DroSharp.Alignment.Training;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>
/// Micro-batch gradients formed whole and added once: the step's gradient is ((g₀ + g₁) + g₂) + …,
/// what the rank-ordered all-reduce makes of one micro-batch per rank.
/// </summary>
public sealed class GradientAccumulatorTests
{
    [Fact]
    public void EachMicroBatchGradientIsFormedFromZeroAndAddedOnce()
    {
        // Each "backward" adds two pieces into the gradient, as an embedding row used twice does.
        var rng = new Random(7);
        float[][][] pieces = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 2)
            .Select(_ => Enumerable.Range(0, 257).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4)))).ToArray()).ToArray()).ToArray();
        using var p = Tensor.Zeros(new Shape(257));
        p.RequiresGrad = true;
        p.Grad = Tensor.Zeros(p.Shape); // as after ZeroGrad(setToNone: false)
        using var accumulator = new GradientAccumulator([p]);
        for (int k = 0; k < 3; k++)
        {
            accumulator.Begin(k);
            foreach (var piece in pieces[k]) AddInto(p.Grad!, piece);
            accumulator.End(k);
        }

        // What three ranks would sum: g_k = (0 + c_k0) + c_k1 on each, then ((g₀ + g₁) + g₂).
        var g = pieces.Select(ps => { var s = new float[257]; foreach (var c in ps) for (int i = 0; i < 257; i++) s[i] += c[i]; return s; }).ToArray();
        var expected = new float[257];
        for (int i = 0; i < 257; i++) expected[i] = (g[0][i] + g[1][i]) + g[2][i];
        Assert.Equal(expected, p.Grad!.ToArray());

        // Adding the pieces straight into the running sum rounds differently: the test can tell.
        var straight = new float[257];
        foreach (var ps in pieces) foreach (var c in ps) for (int i = 0; i < 257; i++) straight[i] += c[i];
        Assert.NotEqual(expected, straight);
    }

    [Fact]
    public void AParameterWithoutAGradientKeepsNoneAndOneFirstReachedLaterGetsItsOwn()
    {
        using var unused = Tensor.Zeros(new Shape(3));
        using var late = Tensor.Zeros(new Shape(3));
        unused.RequiresGrad = late.RequiresGrad = true;
        using var accumulator = new GradientAccumulator([unused, late]);
        accumulator.Begin(0);
        accumulator.End(0);
        accumulator.Begin(1);
        late.Grad = Tensor.FromArray([1f, -2f, 3f], new Shape(3)); // the tape makes the buffer on first use
        accumulator.End(1);
        Assert.Null(unused.Grad);
        Assert.Equal([1f, -2f, 3f], late.Grad!.ToArray());
        late.Grad.Dispose();
    }

    [Fact]
    public void SpareBuffersAreZeroedForTheNextStep()
    {
        using var p = Tensor.Zeros(new Shape(5));
        p.RequiresGrad = true;
        p.Grad = Tensor.Zeros(p.Shape);
        using var accumulator = new GradientAccumulator([p]);
        for (int step = 0; step < 2; step++)
        {
            for (int k = 0; k < 2; k++)
            {
                accumulator.Begin(k);
                AddInto(p.Grad!, [1, 2, 3, 4, 5]);
                accumulator.End(k);
            }
            Assert.Equal([2f, 4, 6, 8, 10], p.Grad!.ToArray());
            p.Grad.Clear(); // the optimiser's ZeroGrad
        }
    }

    private static void AddInto(Tensor grad, float[] piece)
    {
        for (int i = 0; i < piece.Length; i++) grad[i] += piece[i];
    }
}
