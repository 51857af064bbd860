using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors.Tests;

/// <summary>
/// Ops whose backward stores an intermediate's first gradient (no clearing pass: Add, SiluGated,
/// GatedGelu, Rope) give bit for bit the gradients of accumulating into zeros, which is what they
/// do for a leaf: the same op on leaves and on intermediates (1·leaf) must agree exactly, at every
/// SIMD level, over vector bodies and scalar tails, and when both inputs are one tensor.
/// </summary>
public class FirstGradientStoreTests
{
    private delegate Tensor Op(Tensor a, Tensor b);

    public static readonly TheoryData<string> Ops2 = new() { "Add", "SiluGated", "GatedGelu", "Rope" };

    [Theory]
    [MemberData(nameof(Ops2))]
    public void StoringTheFirstGradientEqualsAccumulatingIntoZeros(string name)
    {
        const int Rows = 7, Heads = 3, HeadDim = 10; // 210 elements: 13 AVX-512 vectors and a tail of 2
        using var table = new RopeTable(RopeFrequencies.Compute("default", 10000, 8, 1.0, 4096, null, null, Rows).InverseFrequencies, 1f, Rows);
        int[] positions = [0, 1, 2, 3, 4, 5, 6];
        Op op = name switch
        {
            "Add" => Ops.Add,
            "SiluGated" => Ops.SiluGated,
            "GatedGelu" => Ops.GatedGelu,
            _ => (a, b) => Ops.Add(Ops.Rope(a, table, positions, Heads, HeadDim), Ops.Rope(b, table, positions, Heads, HeadDim)),
        };
        var rng = new Random(name.Length);
        using var a = TestUtil.Random(rng, new Shape(Rows, Heads * HeadDim), 3f);
        using var b = TestUtil.Random(rng, new Shape(Rows, Heads * HeadDim), 3f);
        using var probe = TestUtil.Random(rng, new Shape(Rows, Heads * HeadDim));
        a.RequiresGrad = b.RequiresGrad = true;
        foreach (var level in TestUtil.Levels)
        {
            if (level > KernelDispatch.Hardware) continue;
            using var _ = KernelDispatch.Override(level);
            foreach (bool same in new[] { false, true })
            {
                var second = same ? a : b;
                var (leafA, leafB) = Gradients(() => op(a, second), a, second, probe);
                // Ops.Scale(·, 1) makes the inputs intermediates (one for both when they are one leaf);
                // its own backward accumulates into the leaves.
                var (midA, midB) = Gradients(() =>
                {
                    var ma = Ops.Scale(a, 1f);
                    return op(ma, same ? ma : Ops.Scale(b, 1f));
                }, a, second, probe);
                TestUtil.AssertBitIdentical(leafA, midA);
                TestUtil.AssertBitIdentical(leafB, midB);
                leafA.Dispose(); leafB.Dispose(); midA.Dispose(); midB.Dispose();
            }
        }
    }

    private static (Tensor, Tensor) Gradients(Func<Tensor> forward, Tensor a, Tensor b, Tensor probe)
    {
        using (var tape = new Tape())
        using (tape.Activate())
        {
            // Fill the arena with NaNs first: a stored gradient must not read what its buffer held.
            tape.Arena.Uninitialized(new Shape(1 << 16)).Fill(float.NaN);
            tape.Reset();
            a.Grad = null;
            b.Grad = null;
            tape.Backward(forward(), probe);
        }
        var ga = a.Grad!.Clone();
        var gb = b.Grad!.Clone();
        a.Grad.Dispose();
        if (!ReferenceEquals(a, b)) b.Grad.Dispose();
        a.Grad = null;
        b.Grad = null;
        return (ga, gb);
    }
}
