using DroSharp.Tensors.Optim;

namespace DroSharp.Tensors.Tests.Optim;

/// <summary>Parameters, gradients and comparisons shared by the optimiser tests.</summary>
internal static class OptimTestUtil
{
    public static Tensor Parameter(Random rng, string name, Shape shape, float scale = 1f)
    {
        var p = TestUtil.Random(rng, shape, scale);
        p.RequiresGrad = true;
        p.Name = name;
        return p;
    }

    /// <summary>The parameters most tests use: factored 2-D and 3-D, unfactored 1-D, and a one-element 1-D.</summary>
    public static Tensor[] MixedParameters(int seed)
    {
        var rng = new Random(seed);
        return
        [
            Parameter(rng, "encoder.block.0.layer.0.SelfAttention.q.weight", new Shape(7, 33)),
            Parameter(rng, "stack.weight", new Shape(2, 5, 9)),
            Parameter(rng, "value_head.bias", new Shape(129)),
            Parameter(rng, "scale", new Shape(1)),
        ];
    }

    /// <summary>Fresh random gradients (never zero) for the parameters not listed in <paramref name="withoutGrad"/>.</summary>
    public static void SetGradients(Tensor[] parameters, Random rng, params int[] withoutGrad)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (withoutGrad.Contains(i))
            {
                p.Grad?.Dispose();
                p.Grad = null;
                continue;
            }
            var g = p.EnsureGrad();
            for (int j = 0; j < g.Length; j++)
            {
                double u = rng.NextDouble() * 2 - 1;
                g[j] = (float)(u + 0.05 * Math.Sign(u));
            }
        }
    }

    public static double[][] ToDouble(Tensor[] tensors) => tensors.Select(t => t.ToArray().Select(x => (double)x).ToArray()).ToArray();

    public static double[]? GradOf(Tensor p) => p.Grad?.ToArray().Select(x => (double)x).ToArray();

    public static Tensor[] CloneParameters(Tensor[] parameters) => parameters.Select(p =>
    {
        var c = p.Clone();
        c.RequiresGrad = true;
        c.Name = p.Name;
        return c;
    }).ToArray();

    public static void AssertBitwiseEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}[{i}]: {expected[i]:R} vs {actual[i]:R}");
    }

    /// <summary>A deep copy of an exported state, as a checkpoint round trip would give.</summary>
    public static OptimizerState DeepCopy(OptimizerState state)
    {
        var copy = new OptimizerState(state.Kind);
        foreach (var (k, v) in state.Counters) copy.Counters[k] = v;
        foreach (var (k, t) in state.Tensors) copy.Tensors[k] = t.Clone();
        return copy;
    }

    public static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors)
        {
            t.Grad?.Dispose();
            t.Dispose();
        }
    }
}
