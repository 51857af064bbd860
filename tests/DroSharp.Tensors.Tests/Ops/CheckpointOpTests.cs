using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Modules;

namespace DroSharp.Tensors.Tests;

/// <summary>
/// <see cref="Ops.Checkpoint"/>: a stack of blocks whose activations are recomputed in backward gives
/// the same outputs and bit-identical gradients as the plain tape, with less memory kept.
/// </summary>
public class CheckpointOpTests
{
    /// <summary>
    /// A little pre-norm network: blocks h ← h + W2·silu(W1·rmsnorm(h) + shared), where <c>shared</c> is
    /// a tensor computed once from a parameter and read by every block (as T5's position bias).
    /// </summary>
    private sealed class Net : IDisposable
    {
        public readonly ParameterSet Parameters = new();
        public readonly ParameterSet Adapters = new();
        public readonly Linear[] Up, Down;
        public readonly Tensor[] Norms;
        public readonly Tensor SharedSource;
        public const int D = 12, F = 20, Blocks = 3;

        public Net(Random rng, bool lora)
        {
            Up = new Linear[Blocks];
            Down = new Linear[Blocks];
            Norms = new Tensor[Blocks];
            for (int i = 0; i < Blocks; i++)
            {
                Norms[i] = Parameters.Create($"b{i}.norm", new Shape(D));
                Up[i] = new Linear(Parameters, $"b{i}.up", D, F, bias: true);
                Down[i] = new Linear(Parameters, $"b{i}.down", F, D);
            }
            SharedSource = Parameters.Create("shared", new Shape(F));
            foreach (var p in Parameters.All)
                for (int k = 0; k < p.Length; k++) p[k] = (float)(rng.NextDouble() - 0.5);
            if (!lora) return;
            Parameters.Freeze();
            foreach (var l in Up.Concat(Down))
                foreach (var name in new[] { "policy", "value" })
                {
                    var a = l.AddAdapter(Adapters, name, 3, 6, dropout: 0.25f);
                    a.InitializeAsPeft(new DeterministicRandom((ulong)rng.Next()));
                    for (int k = 0; k < a.B.Length; k++) a.B[k] = (float)(rng.NextDouble() - 0.5);
                }
        }

        public Tensor Block(int i, Tensor h, Tensor shared) =>
            Ops.Add(h, Down[i].Forward(Ops.Silu(Ops.Add(Up[i].Forward(Ops.RmsNorm(h, Norms[i], 1e-6f)), shared))));

        public Tensor Forward(Tensor x, bool checkpoint)
        {
            int rows = x.Shape[0];
            var shared = Ops.Reshape(Ops.Add(Ops.Scale(Ops.Reshape(SharedSource, new Shape(1, F)), 1f), Tape.NewZeros(new Shape(1, F))), new Shape(1, F));
            var tiled = Ops.Add(Tape.NewZeros(new Shape(rows, F)), Ops.GatherRows(shared, new int[rows]));
            var h = x;
            for (int i = 0; i < Blocks; i++)
            {
                int b = i;
                h = checkpoint ? Ops.Checkpoint(t => Block(b, t[0], t[1]), h, tiled) : Block(i, h, tiled);
            }
            return h;
        }

        public void Dispose()
        {
            Parameters.Dispose();
            Adapters.Dispose();
        }
    }

    private static Tensor[] Gradients(ParameterSet ps, Tensor x) => [.. ps.All.Where(p => p.RequiresGrad).Select(p => p.Grad!.Clone()), x.Grad!.Clone()];

    [Fact]
    public void FullFineTuningGradientsAreBitIdentical()
    {
        var rng = new Random(1);
        using var net = new Net(rng, lora: false);
        using var x = TestUtil.Random(rng, new Shape(9, Net.D));
        x.RequiresGrad = true;
        using var probe = TestUtil.Random(rng, new Shape(9, Net.D));
        (Tensor Y, Tensor[] Grads, long Bytes) Run(bool checkpoint)
        {
            net.Parameters.ZeroGrad();
            x.Grad = null;
            using var tape = new Tape();
            Tensor y;
            using (tape.Activate()) y = net.Forward(x, checkpoint);
            long bytes = tape.Arena.BytesInUse;
            tape.Backward(y, probe);
            return (y.Clone(), Gradients(net.Parameters, x), bytes);
        }
        var plain = Run(false);
        var ckpt = Run(true);
        TestUtil.AssertBitIdentical(plain.Y, ckpt.Y);
        Assert.Equal(plain.Grads.Length, ckpt.Grads.Length);
        for (int i = 0; i < plain.Grads.Length; i++) TestUtil.AssertBitIdentical(plain.Grads[i], ckpt.Grads[i]);
        Assert.True(plain.Grads.All(g => g.ToArray().Any(e => e != 0)));
        // Only block inputs and outputs stay on the tape.
        Assert.True(ckpt.Bytes < plain.Bytes / 2, $"checkpointed forward kept {ckpt.Bytes} bytes, the plain one {plain.Bytes}");

        // And against finite differences, through the checkpointed blocks.
        TestUtil.CheckGradients(rng, () => net.Forward(x, checkpoint: true), [x, net.SharedSource, net.Up[1].Weight, net.Norms[2]], h: 1e-2f);
    }

    /// <summary>
    /// The policy's and the value's adapters on one frozen base, both forwards checkpointed on one tape
    /// with dropout: the backward recomputes each block with the adapter (and masks) of its forward.
    /// </summary>
    [Fact]
    public void AdapterSelectionAndDropoutMasksOfEachForwardAreReplayed()
    {
        var rng = new Random(2);
        using var net = new Net(rng, lora: true);
        using var x = TestUtil.Random(rng, new Shape(7, Net.D));
        using var gp = TestUtil.Random(rng, new Shape(7, Net.D));
        using var gv = TestUtil.Random(rng, new Shape(7, Net.D));
        Tensor[] Run(bool checkpoint)
        {
            net.Adapters.ZeroGrad();
            using var tape = new Tape();
            Tensor yp, yv;
            using (tape.Activate())
            {
                using (new AdapterSelection("policy", 123).Activate()) yp = net.Forward(x, checkpoint);
                using (new AdapterSelection("value", 123).Activate()) yv = net.Forward(x, checkpoint);
            }
            // A different selection is current during backward: the recorded one must be used.
            using (new AdapterSelection("value", 999).Activate()) tape.Backward([(yp, gp), (yv, gv)]);
            return [.. net.Adapters.All.Select(p => p.Grad!.Clone()), yp.Clone(), yv.Clone()];
        }
        var plain = Run(false);
        var ckpt = Run(true);
        for (int i = 0; i < plain.Length; i++) TestUtil.AssertBitIdentical(plain[i], ckpt[i]);
        Assert.All(net.Parameters.All, p => Assert.Null(p.Grad));
    }

    [Fact]
    public void ABlockReadingAnUndeclaredTensorThatNeedsAGradientIsRefused()
    {
        var rng = new Random(3);
        using var net = new Net(rng, lora: false);
        using var x = TestUtil.Random(rng, new Shape(4, Net.D));
        using var tape = new Tape();
        using var _ = tape.Activate();
        var hidden = Ops.Scale(x, 2f); // needs no gradient: x does not
        var shared = Ops.Scale(net.SharedSource, 1f); // needs one
        var tiled = Ops.Add(Tape.NewZeros(new Shape(4, Net.F)), Ops.GatherRows(Ops.Reshape(shared, new Shape(1, Net.F)), new int[4]));
        var e = Assert.Throws<ArgumentException>(() => Ops.Checkpoint(t => net.Block(0, t[0], tiled), hidden));
        Assert.Contains("not one of its inputs", e.Message);
        Assert.Throws<ArgumentException>(() => Ops.Checkpoint(t => t[0], hidden));
    }

    [Fact]
    public void WithoutARecordingTapeTheBlockJustRuns()
    {
        var rng = new Random(4);
        using var net = new Net(rng, lora: false);
        using var x = TestUtil.Random(rng, new Shape(4, Net.D));
        using var tape = new Tape(recording: false);
        using var _ = tape.Activate();
        var plain = net.Forward(x, checkpoint: false);
        var ckpt = net.Forward(x, checkpoint: true);
        TestUtil.AssertBitIdentical(plain, ckpt);
        Assert.Equal(0, tape.Count);
    }
}
