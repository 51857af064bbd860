using DroSharp.Tensors.Autograd;

namespace DroSharp.Tensors.Tests;

/// <summary>
/// A training-like step (forward, backward, reset) of a small two-layer T5-style decoder must not
/// touch the managed heap once the arena and the tape have grown to the step's size.
/// </summary>
public class SteadyStateAllocationTests
{
    // Attention here is big enough (T·T·dk per head) to be split over the worker pool.
    private const int B = 2, T = 33, D = 64, Heads = 2, Ff = 96, Vocab = 37, Buckets = 8;

    private sealed class Net : IDisposable
    {
        public readonly Tensor Embed, Table, Head, FinalNorm;
        public readonly Tensor[] Norm1 = new Tensor[2], Norm2 = new Tensor[2], Wq = new Tensor[2], Wk = new Tensor[2],
            Wv = new Tensor[2], Wo = new Tensor[2], Wi0 = new Tensor[2], Wi1 = new Tensor[2], WoFf = new Tensor[2];
        public readonly Tensor Mask = Tensor.Zeros(B, T), PoolMask = Tensor.Zeros(B, T);
        public readonly int[] Ids = new int[B * T], Targets = new int[B * T], BucketIds = new int[T * T];

        public Net()
        {
            var rng = new Random(1);
            Tensor P(params int[] dims)
            {
                var t = TestUtil.Random(rng, Shape.FromSpan(dims), 0.3f);
                t.RequiresGrad = true;
                return t;
            }
            Embed = P(Vocab, D); Table = P(Buckets, Heads); Head = P(Vocab, D); FinalNorm = P(D);
            for (int l = 0; l < 2; l++)
            {
                Norm1[l] = P(D); Norm2[l] = P(D);
                Wq[l] = P(D, D); Wk[l] = P(D, D); Wv[l] = P(D, D); Wo[l] = P(D, D);
                Wi0[l] = P(Ff, D); Wi1[l] = P(Ff, D); WoFf[l] = P(D, Ff);
            }
            for (int i = 0; i < Ids.Length; i++) { Ids[i] = rng.Next(Vocab); Targets[i] = i % 5 == 4 ? -100 : rng.Next(Vocab); }
            for (int i = 0; i < T; i++) for (int j = 0; j < T; j++) BucketIds[i * T + j] = Math.Min(Buckets - 1, Math.Abs(i - j));
            for (int b = 0; b < B; b++) for (int t = 0; t < T - b * 7; t++) { Mask[b, t] = 1f; PoolMask[b, t] = 1f; }
        }

        /// <summary>One forward pass to a scalar loss, on the current tape.</summary>
        public Tensor Loss()
        {
            var x = Ops.Reshape(Ops.Embedding(Embed, Ids), new Shape(B, T, D));
            var bias = Ops.PositionBias(Table, BucketIds, T, T);
            for (int l = 0; l < 2; l++)
            {
                var h = Ops.RmsNorm(x, Norm1[l], 1e-6f);
                var a = Ops.Attention(Ops.Linear(h, Wq[l]), Ops.Linear(h, Wk[l]), Ops.Linear(h, Wv[l]), Heads, bias, Mask, causal: true);
                x = Ops.Add(x, Ops.Dropout(Ops.Linear(a, Wo[l]), 0.1f, (ulong)l));
                h = Ops.RmsNorm(x, Norm2[l], 1e-6f);
                var ff = Ops.Linear(Ops.GatedGelu(Ops.Linear(h, Wi0[l]), Ops.Linear(h, Wi1[l])), WoFf[l]);
                x = Ops.Add(x, ff);
            }
            x = Ops.RmsNorm(x, FinalNorm, 1e-6f);
            var logits = Ops.Reshape(Ops.Linear(Ops.Scale(x, 0.25f), Head), new Shape(B * T, Vocab));
            var tokenLogProbs = Ops.Reshape(Ops.LogSoftmaxGather(logits, Targets), new Shape(B, T));
            var sequenceLogProbs = Ops.SumLastAxis(tokenLogProbs);
            var pooled = Ops.MaskedMeanPool(x, PoolMask);
            return Ops.Sub(Ops.Mean(Ops.Relu(pooled)), Ops.Sum(sequenceLogProbs));
        }

        public void Dispose()
        {
            foreach (var t in new[] { Embed, Table, Head, FinalNorm, Mask, PoolMask }) t.Dispose();
            foreach (var arr in new[] { Norm1, Norm2, Wq, Wk, Wv, Wo, Wi0, Wi1, WoFf }) foreach (var t in arr) t.Dispose();
        }
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
        Assert.NotNull(net.Embed.Grad);
        Assert.NotNull(net.Table.Grad);
        Assert.NotNull(net.Wq[0].Grad);
    }
}
