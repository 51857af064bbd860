using DroSharp.Tensors.Autograd;

namespace DroSharp.Tensors.Tests;

/// <summary>
/// A tiny two-layer decoder-only network built from the decoder ops the way the model layer will
/// (Gemma-style norms and soft-capping in one layer, Llama/Qwen-style in the other; GQA, qk-norm,
/// partial RoPE, a sliding window, right padding, tied LM head, a value head on the last prompt
/// token): its gradients match finite differences of the whole loss, and a training step allocates
/// nothing on the managed heap once the arena has grown.
/// </summary>
public class DecoderStepTests
{
    private const int B = 2, T = 13, Hq = 4, Hkv = 2, D = 6, Hidden = Hq * D, Ff = 20, Vocab = 29;

    private sealed class Net : IDisposable
    {
        public readonly Tensor Embed, FinalNorm, ValueHead, QBias;
        public readonly Tensor[] Norm1 = new Tensor[2], Norm2 = new Tensor[2], QNorm = new Tensor[2], KNorm = new Tensor[2],
            Wq = new Tensor[2], Wk = new Tensor[2], Wv = new Tensor[2], Wo = new Tensor[2], Gate = new Tensor[2], Up = new Tensor[2], Down = new Tensor[2];
        public readonly Tensor Mask = Tensor.Zeros(B, T);
        public readonly int[] Ids = new int[B * T], Targets = new int[B * T], Positions = new int[B * T], LastPrompt = new int[B];
        public readonly RopeTable Rope;

        public Net()
        {
            var rng = new Random(1);
            Tensor P(params int[] dims)
            {
                var t = TestUtil.Random(rng, Shape.FromSpan(dims), 0.4f);
                t.RequiresGrad = true;
                return t;
            }
            Embed = P(Vocab, Hidden); FinalNorm = P(Hidden); ValueHead = P(1, Hidden); QBias = P(Hq * D);
            for (int l = 0; l < 2; l++)
            {
                Norm1[l] = P(Hidden); Norm2[l] = P(Hidden); QNorm[l] = P(D); KNorm[l] = P(D);
                Wq[l] = P(Hq * D, Hidden); Wk[l] = P(Hkv * D, Hidden); Wv[l] = P(Hkv * D, Hidden); Wo[l] = P(Hidden, Hq * D);
                Gate[l] = P(Ff, Hidden); Up[l] = P(Ff, Hidden); Down[l] = P(Hidden, Ff);
            }
            int[] lengths = [T, 9];
            for (int b = 0; b < B; b++)
            {
                LastPrompt[b] = b * T + 3;
                for (int t = 0; t < T; t++)
                {
                    int i = b * T + t;
                    Ids[i] = rng.Next(Vocab);
                    Positions[i] = t;
                    bool real = t < lengths[b];
                    Mask[b, t] = real ? 1f : 0f;
                    Targets[i] = real && t >= 3 && t + 1 < lengths[b] ? rng.Next(Vocab) : -100; // completion tokens only
                }
            }
            // Partial rotary: 4 of each head's 6 dims rotate (Phi-style), Llama-3 style frequencies.
            var f = RopeFrequencies.Compute("llama3", 500000, D, 4.0 / 6.0, 64,
                new RopeScalingParameters { Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 16 }, null, T);
            Rope = new RopeTable(f, T);
        }

        public Tensor Loss()
        {
            var x = Ops.Reshape(Ops.Scale(Ops.Embedding(Embed, Ids), MathF.Sqrt(Hidden)), new Shape(B, T, Hidden));
            for (int l = 0; l < 2; l++)
            {
                bool gemma = l == 1;
                var h = Ops.RmsNorm(x, Norm1[l], 1e-6f, weightPlusOne: gemma);
                var q = Ops.Linear(h, Wq[l]);
                if (!gemma) q = Ops.AddBias(q, QBias);
                var k = Ops.Linear(h, Wk[l]);
                var v = Ops.Linear(h, Wv[l]);
                q = Ops.Reshape(Ops.RmsNorm(Ops.Reshape(q, new Shape(B * T * Hq, D)), QNorm[l], 1e-6f, gemma), new Shape(B, T, Hq * D));
                k = Ops.Reshape(Ops.RmsNorm(Ops.Reshape(k, new Shape(B * T * Hkv, D)), KNorm[l], 1e-6f, gemma), new Shape(B, T, Hkv * D));
                q = Ops.Rope(q, Rope, Positions, Hq, D);
                k = Ops.Rope(k, Rope, Positions, Hkv, D);
                var a = Ops.CausalAttention(q, k, v, Hq, Hkv, 1f / MathF.Sqrt(D), gemma ? 3f : 0f, gemma ? 0 : 5, Mask);
                x = Ops.Add(x, Ops.Linear(a, Wo[l]));
                h = Ops.RmsNorm(x, Norm2[l], 1e-6f, gemma);
                var act = gemma ? Ops.GatedGelu(Ops.Linear(h, Gate[l]), Ops.Linear(h, Up[l])) : Ops.SiluGated(Ops.Linear(h, Gate[l]), Ops.Linear(h, Up[l]));
                x = Ops.Add(x, Ops.Linear(act, Down[l]));
            }
            x = Ops.RmsNorm(x, FinalNorm, 1e-6f, weightPlusOne: true);
            var flat = Ops.Reshape(x, new Shape(B * T, Hidden));
            var logits = Ops.SoftCap(Ops.Linear(flat, Embed), 5f);
            var logProbs = Ops.Sum(Ops.LogSoftmaxGather(logits, Targets));
            var values = Ops.Linear(Ops.GatherRows(flat, LastPrompt), ValueHead);
            return Ops.Sub(Ops.Scale(Ops.Sum(values), 0.5f), logProbs);
        }

        public IEnumerable<Tensor> Parameters() =>
            new[] { Embed, FinalNorm, ValueHead, QBias }.Concat(new[] { Norm1, Norm2, QNorm, KNorm, Wq, Wk, Wv, Wo, Gate, Up, Down }.SelectMany(a => a));

        public void Dispose()
        {
            foreach (var t in Parameters()) t.Dispose();
            Mask.Dispose();
            Rope.Dispose();
        }
    }

    [Fact]
    public void GradientsOfTheWholeLossMatchFiniteDifferences()
    {
        using var net = new Net();
        using (var tape = new Tape())
        using (tape.Activate())
            tape.Backward(net.Loss());
        double Loss()
        {
            using var t = new Tape(recording: false);
            using var _ = t.Activate();
            return net.Loss()[0];
        }
        int seed = 0;
        foreach (var p in net.Parameters())
            TestUtil.AssertGradMatchesFiniteDifference(p, Loss, h: 1e-2f, relTol: 3e-2, absTol: 3e-3, maxChecks: 6, seed: seed++);
    }

    [Fact]
    public void TrainingStepAllocatesNothingOnTheManagedHeapInSteadyState()
    {
        using var net = new Net();
        using var tape = new Tape(initialArenaBytes: 4096);
        float Step()
        {
            float loss;
            using (tape.Activate())
            {
                var l = net.Loss();
                loss = l[0];
                tape.Backward(l);
            }
            tape.Reset();
            return loss;
        }
        float first = Step();
        for (int i = 0; i < 3; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        float last = Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(float.IsFinite(first) && first == last, $"the loss changed between identical steps: {first} vs {last}");
        Assert.All(net.Parameters(), p => Assert.NotNull(p.Grad));
    }
}
