using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Modules;

namespace DroSharp.Tensors.Tests.Modules;

/// <summary>
/// LoRA adapters on <see cref="Linear"/>: named adapters selected per forward by <see cref="AdapterSelection"/>,
/// PEFT's initialisation, merging, and frozen weights stored in bfloat16.
/// </summary>
public class LinearAdapterTests
{
    private static (ParameterSet Base, Linear Linear) Module(Random rng, int inF = 7, int outF = 5, bool bias = true)
    {
        var ps = new ParameterSet();
        var l = new Linear(ps, "model.layers.0.self_attn.q_proj", inF, outF, bias);
        foreach (var p in ps.All)
            for (int i = 0; i < p.Length; i++) p[i] = (float)(rng.NextDouble() * 2 - 1);
        return (ps, l);
    }

    private static void Fill(Random rng, Tensor t)
    {
        for (int i = 0; i < t.Length; i++) t[i] = (float)(rng.NextDouble() * 2 - 1);
    }

    [Fact]
    public void TheSelectedAdapterIsAddedAndNoneOrAnUnknownNameGivesTheBase()
    {
        var rng = new Random(1);
        var (ps, l) = Module(rng);
        using var _ = ps;
        using var adapters = new ParameterSet();
        var p = l.AddAdapter(adapters, "policy", rank: 3, alpha: 6);
        var v = l.AddAdapter(adapters, "value", rank: 2, alpha: 2, useRsLora: true);
        Fill(rng, p.A); Fill(rng, p.B); Fill(rng, v.A); Fill(rng, v.B);
        Assert.Equal(["model.layers.0.self_attn.q_proj.lora_A.policy.weight", "model.layers.0.self_attn.q_proj.lora_B.policy.weight",
                      "model.layers.0.self_attn.q_proj.lora_A.value.weight", "model.layers.0.self_attn.q_proj.lora_B.value.weight"],
                     adapters.All.Select(t => t.Name));
        Assert.Equal(2f, p.Scale);
        Assert.Equal((float)(2 / Math.Sqrt(2)), v.Scale);
        using var x = TestUtil.Random(rng, new Shape(4, 7));

        using var plain = Ops.AddBias(Ops.Linear(x, l.Weight), l.Bias!);
        using (var off = l.Forward(x)) TestUtil.AssertBitIdentical(plain, off);
        using (AdapterSelection.None.Activate())
        using (var off = l.Forward(x)) TestUtil.AssertBitIdentical(plain, off);
        using (new AdapterSelection("other").Activate())
        using (var other = l.Forward(x)) TestUtil.AssertBitIdentical(plain, other);
        foreach (var a in new[] { p, v })
        {
            using var expected = Ops.AddBias(Ops.LoraLinear(x, l.Weight, a.A, a.B, a.Scale, 0f, 0), l.Bias!);
            using (new AdapterSelection(a.Name, 5).Activate())
            using (var y = l.Forward(x)) TestUtil.AssertBitIdentical(expected, y);
        }
        Assert.True(l.RemoveAdapter("value"));
        Assert.False(l.RemoveAdapter("value"));
        Assert.Equal(["policy"], l.Adapters.Keys);
    }

    /// <summary>
    /// Two forwards with different adapters on one tape (the policy's and the value's on a shared base)
    /// and one backward give each adapter exactly the gradient of its own forward.
    /// </summary>
    [Fact]
    public void TwoAdaptersOnOneTapeEachGetTheGradientOfTheirOwnForward()
    {
        var rng = new Random(2);
        var (ps, l) = Module(rng);
        using var _ = ps;
        ps.Freeze();
        using var adapters = new ParameterSet();
        var p = l.AddAdapter(adapters, "policy", 3, 3, dropout: 0.2f);
        var v = l.AddAdapter(adapters, "value", 3, 3, dropout: 0.2f);
        Fill(rng, p.A); Fill(rng, p.B); Fill(rng, v.A); Fill(rng, v.B);
        using var x = TestUtil.Random(rng, new Shape(6, 7));
        using var gp = TestUtil.Random(rng, new Shape(6, 5));
        using var gv = TestUtil.Random(rng, new Shape(6, 5));

        Tensor[] Grads(bool policy, bool value)
        {
            adapters.ZeroGrad();
            using var tape = new Tape();
            using (tape.Activate())
            {
                var seeds = new List<(Tensor, Tensor)>();
                if (policy) using (new AdapterSelection("policy", 10).Activate()) seeds.Add((l.Forward(x), gp));
                if (value) using (new AdapterSelection("value", 10).Activate()) seeds.Add((l.Forward(x), gv));
                tape.Backward(seeds.ToArray());
            }
            return adapters.All.Select(t => t.Grad!.Clone()).ToArray();
        }
        var both = Grads(true, true);
        var policyOnly = Grads(true, false);
        var valueOnly = Grads(false, true);
        for (int i = 0; i < 2; i++) TestUtil.AssertBitIdentical(policyOnly[i], both[i]);
        for (int i = 2; i < 4; i++) TestUtil.AssertBitIdentical(valueOnly[i], both[i]);
        Assert.All(policyOnly.Skip(2), g => Assert.All(g.ToArray(), e => Assert.Equal(0f, e)));
        Assert.True(both[0].ToArray().Any(e => e != 0) && both[2].ToArray().Any(e => e != 0));
    }

    [Fact]
    public void DropoutAppliesOnlyWhileTheAdapterTrains()
    {
        var rng = new Random(3);
        var (ps, l) = Module(rng, bias: false);
        using var _ = ps;
        ps.Freeze();
        using var adapters = new ParameterSet();
        var a = l.AddAdapter(adapters, "policy", 2, 2, dropout: 0.5f);
        Fill(rng, a.A); Fill(rng, a.B);
        using var x = TestUtil.Random(rng, new Shape(8, 7));
        using var noDropout = Ops.LoraLinear(x, l.Weight, a.A, a.B, a.Scale, 0f, 0);
        using var selection = new AdapterSelection("policy", 77).Activate();
        using (var y = l.Forward(x)) TestUtil.AssertBitIdentical(noDropout, y); // no tape: inference
        using (var tape = new Tape(recording: false))
        using (tape.Activate())
            TestUtil.AssertBitIdentical(noDropout, l.Forward(x)); // evaluation
        using (var tape = new Tape())
        using (tape.Activate())
        {
            var y = l.Forward(x);
            Assert.Contains(Enumerable.Range(0, y.Length), i => y[i] != noDropout[i]); // training: masks drawn
            var again = l.Forward(x);
            TestUtil.AssertBitIdentical(y, again); // the same seed and module: the same masks
        }
        a.A.RequiresGrad = false;
        a.B.RequiresGrad = false;
        using (var tape = new Tape())
        using (tape.Activate())
            TestUtil.AssertBitIdentical(noDropout, l.Forward(x)); // a frozen adapter does not drop
    }

    [Fact]
    public void PeftInitialisationIsKaimingUniformForAAndZeroForB()
    {
        var ps = new ParameterSet();
        var l = new Linear(ps, "m", 400, 30);
        using var _ = ps;
        using var adapters = new ParameterSet();
        var a = l.AddAdapter(adapters, "policy", 16, 32);
        a.InitializeAsPeft(new DeterministicRandom(5));
        double bound = 1 / Math.Sqrt(400), sum2 = 0;
        foreach (float e in a.A.ToArray())
        {
            Assert.InRange(e, -bound, bound);
            sum2 += e * e;
        }
        // U(−b, b) has variance b²/3.
        Assert.InRange(sum2 / a.A.Length, 0.9 * bound * bound / 3, 1.1 * bound * bound / 3);
        Assert.All(a.B.ToArray(), e => Assert.Equal(0f, e));
        Assert.Equal(2f, a.Scale);
    }

    [Fact]
    public void MergingFoldsScaleTimesBTimesAIntoTheWeight()
    {
        var rng = new Random(4);
        var (ps, l) = Module(rng, inF: 13, outF: 9);
        using var _ = ps;
        using var adapters = new ParameterSet();
        var a = l.AddAdapter(adapters, "policy", 4, 12);
        Fill(rng, a.A); Fill(rng, a.B);
        using var x = TestUtil.Random(rng, new Shape(5, 13));
        Tensor adapted;
        using (new AdapterSelection("policy").Activate()) adapted = l.Forward(x);
        var expected = new double[l.Weight.Length];
        for (int o = 0; o < 9; o++)
            for (int k = 0; k < 13; k++)
            {
                double d = 0;
                for (int j = 0; j < 4; j++) d += (double)a.B[o * 4 + j] * a.A[j * 13 + k];
                expected[o * 13 + k] = l.Weight[o * 13 + k] + 3.0 * d;
            }
        l.MergeAdapter("policy");
        Numerics.AssertClose(expected, l.Weight.Span, relative: 1e-5, absolute: 1e-5);
        Assert.Empty(l.Adapters);
        using (new AdapterSelection("policy").Activate())
        using (var merged = l.Forward(x))
            Numerics.AssertClose(TestUtil.ToDouble(adapted), merged.Span, relative: 1e-5, absolute: 1e-5);
        adapted.Dispose();
    }

    [Fact]
    public void AddAdapterRejectsBadSettings()
    {
        var ps = new ParameterSet();
        var l = new Linear(ps, "m", 4, 3);
        using var _ = ps;
        using var adapters = new ParameterSet();
        Assert.Throws<ArgumentOutOfRangeException>(() => l.AddAdapter(adapters, "p", 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.AddAdapter(adapters, "p", 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.AddAdapter(adapters, "p", 2, 1, dropout: 1f));
        Assert.Throws<ArgumentException>(() => l.AddAdapter(adapters, "a.b", 2, 1));
        l.AddAdapter(adapters, "p", 2, 1);
        Assert.Throws<ArgumentException>(() => l.AddAdapter(adapters, "p", 2, 1));
    }

    [Fact]
    public void AFrozenWeightStoredInBFloat16LeavesTheParametersAndComputesAsTheWidenedWeight()
    {
        var rng = new Random(6);
        var (ps, l) = Module(rng, inF: 11, outF: 6);
        using var _ = ps;
        using var adapters = new ParameterSet();
        var a = l.AddAdapter(adapters, "policy", 2, 4);
        Fill(rng, a.A); Fill(rng, a.B);
        Assert.Throws<InvalidOperationException>(() => ps.StoreInBFloat16(l)); // still trainable
        ps.Freeze();
        using var w16 = BFloat16Matrix.FromFloat32(l.Weight);
        using var wide = w16.ToFloat32();
        using var x = TestUtil.Random(rng, new Shape(3, 11));
        using var expectedBase = Ops.AddBias(Ops.Linear(x, wide), l.Bias!);
        using var expectedAdapted = Ops.AddBias(Ops.LoraLinear(x, wide, a.A, a.B, a.Scale, 0f, 0), l.Bias!);
        long before = ps.ElementCount;
        ps.StoreInBFloat16(l);
        Assert.False(l.HasFloat32Weight);
        Assert.Throws<InvalidOperationException>(() => l.Weight);
        Assert.False(ps.Contains("model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal(before - 66, ps.ElementCount);
        var stored = Assert.Single(ps.BFloat16Weights);
        Assert.Equal("model.layers.0.self_attn.q_proj.weight", stored.Name);
        Assert.Same(stored, l.FrozenWeight);
        using (var y = l.Forward(x)) TestUtil.AssertBitIdentical(expectedBase, y);
        using (new AdapterSelection("policy").Activate())
        using (var y = l.Forward(x)) TestUtil.AssertBitIdentical(expectedAdapted, y);
    }
}
