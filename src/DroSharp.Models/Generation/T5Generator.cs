using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DroSharp.Models.T5;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Generation;

/// <summary>
/// Batched autoregressive decoding for <see cref="T5ForConditionalGeneration"/>. The encoder runs once
/// per prompt batch; each decoder layer's cross-attention keys/values are computed once from it;
/// self-attention keys/values are cached step by step, so step t costs O(t) instead of O(t²).
/// A sequence stops at EOS (kept in the output) or after <see cref="GenerationOptions.MaxNewTokens"/>.
/// </summary>
public sealed unsafe class T5Generator
{
    private readonly T5ForConditionalGeneration _model;

    public T5Generator(T5ForConditionalGeneration model) => _model = model;

    /// <summary>Completions (token ids, without the decoder start token) for each prompt, in order.</summary>
    public List<int[]> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options, bool useCache = true)
    {
        options.Validate();
        if (prompts.Count == 0) return new List<int[]>();
        var cfg = _model.Config;
        var sampler = new TokenSampler(options);
        int b = prompts.Count;
        using var batch = Seq2SeqBatch.Create(prompts, prompts.Select(_ => new[] { _model.PadId }).ToList(), _model.PadId, _model.DecoderStartId);

        using var persistent = new Tape(recording: false);
        Tensor enc;
        using (persistent.Activate()) enc = _model.Encode(batch.PromptIds, batch.PromptMask);

        var outputs = new List<int>[b];
        for (int i = 0; i < b; i++) outputs[i] = new List<int>();
        var done = new bool[b];
        var current = new int[b];
        Array.Fill(current, _model.DecoderStartId);

        using var step = new Tape(recording: false);
        var cache = useCache ? new DecoderCache(_model, enc, batch.PromptMask, b, options.MaxNewTokens, persistent) : null;
        try
        {
            for (int t = 0; t < options.MaxNewTokens; t++)
            {
                using (step.Activate())
                {
                    Tensor logits;
                    if (cache is not null)
                    {
                        logits = cache.Step(current, t);
                    }
                    else
                    {
                        // Recompute the whole prefix: [start, y0 … y_{t−1}] for every row.
                        var ids = new int[b * (t + 1)];
                        for (int i = 0; i < b; i++)
                        {
                            ids[i * (t + 1)] = _model.DecoderStartId;
                            for (int s = 0; s < t; s++) ids[i * (t + 1) + s + 1] = s < outputs[i].Count ? outputs[i][s] : _model.PadId;
                        }
                        var hidden = _model.DecodeHidden(ids, b, enc, batch.PromptMask); // [B, t+1, d]
                        var last = Tape.NewTensor(new Shape(b, cfg.DModel));
                        for (int i = 0; i < b; i++)
                            new Span<float>(hidden.Data + ((long)i * (t + 1) + t) * cfg.DModel, cfg.DModel).CopyTo(last.Span.Slice(i * cfg.DModel, cfg.DModel));
                        logits = _model.Logits(last);
                    }
                    int vocab = logits.Shape[1];
                    bool all = true;
                    for (int i = 0; i < b; i++)
                    {
                        if (done[i]) { current[i] = _model.PadId; continue; }
                        int next = sampler.Next(new ReadOnlySpan<float>(logits.Data + (long)i * vocab, vocab));
                        outputs[i].Add(next);
                        current[i] = next;
                        if (next == _model.EosId) done[i] = true;
                        all &= done[i];
                    }
                    if (all) break;
                }
                step.Reset();
            }
        }
        finally
        {
            cache?.Dispose();
        }
        return outputs.Select(o => o.ToArray()).ToList();
    }

    /// <summary>
    /// Per-layer self-attention K/V caches [B, maxLen, inner] and cross-attention K/V [B, P, inner].
    /// </summary>
    private sealed class DecoderCache : IDisposable
    {
        private readonly T5ForConditionalGeneration _model;
        private readonly Tensor[] _selfK, _selfV, _crossK, _crossV;
        private readonly Tensor _encMask;
        private readonly int _batch, _capacity, _inner, _heads, _dk, _promptLen;
        private readonly float[] _scores;

        public DecoderCache(T5ForConditionalGeneration model, Tensor enc, Tensor encMask, int batch, int capacity, Tape persistent)
        {
            _model = model;
            var cfg = model.Config;
            _batch = batch;
            _capacity = capacity;
            _heads = cfg.NumHeads;
            _dk = cfg.DKv;
            _inner = cfg.NumHeads * cfg.DKv;
            _promptLen = enc.Shape[1];
            _encMask = encMask;
            int layers = model.Decoder.Blocks.Count;
            _selfK = new Tensor[layers]; _selfV = new Tensor[layers];
            _crossK = new Tensor[layers]; _crossV = new Tensor[layers];
            using (persistent.Activate())
            {
                for (int l = 0; l < layers; l++)
                {
                    var ca = model.Decoder.Blocks[l].CrossAttention!;
                    _crossK[l] = Ops.Linear(enc, ca.K);
                    _crossV[l] = Ops.Linear(enc, ca.V);
                    _selfK[l] = Tensor.Zeros(new Shape(batch, capacity, _inner));
                    _selfV[l] = Tensor.Zeros(new Shape(batch, capacity, _inner));
                }
            }
            _scores = new float[Math.Max(capacity, _promptLen)];
        }

        /// <summary>Feeds token ids [B] at position t; returns logits [B, vocab].</summary>
        public Tensor Step(int[] tokens, int t)
        {
            var cfg = _model.Config;
            float eps = (float)cfg.LayerNormEpsilon;
            var h = Ops.Reshape(Ops.Embedding(_model.Shared, (int[])tokens.Clone()), new Shape(_batch, 1, cfg.DModel));
            // Position bias of query t against keys 0..t (causal buckets), [H, t+1].
            var table = _model.Decoder.Blocks[0].SelfAttention.RelativeAttentionBias!;
            var bias = new float[_heads * (t + 1)];
            for (int j = 0; j <= t; j++)
            {
                int bucket = RelativePositionBucket.Compute(j - t, bidirectional: false, cfg.RelativeAttentionNumBuckets, cfg.RelativeAttentionMaxDistance);
                for (int hd = 0; hd < _heads; hd++) bias[hd * (t + 1) + j] = table[bucket * _heads + hd];
            }
            for (int l = 0; l < _model.Decoder.Blocks.Count; l++)
            {
                var block = _model.Decoder.Blocks[l];
                var sa = block.SelfAttention;
                var n = Ops.RmsNorm(h, block.SelfAttentionNorm, eps);
                var q = Ops.Linear(n, sa.Q);
                var k = Ops.Linear(n, sa.K);
                var v = Ops.Linear(n, sa.V);
                for (int i = 0; i < _batch; i++)
                {
                    new Span<float>(k.Data + (long)i * _inner, _inner).CopyTo(new Span<float>(_selfK[l].Data + ((long)i * _capacity + t) * _inner, _inner));
                    new Span<float>(v.Data + (long)i * _inner, _inner).CopyTo(new Span<float>(_selfV[l].Data + ((long)i * _capacity + t) * _inner, _inner));
                }
                var a = Tape.NewTensor(new Shape(_batch, 1, _inner));
                Attend(q, _selfK[l], _selfV[l], _capacity, t + 1, bias, null, a);
                h = Ops.Add(h, Ops.Linear(a, sa.O));

                var ca = block.CrossAttention!;
                n = Ops.RmsNorm(h, block.CrossAttentionNorm!, eps);
                q = Ops.Linear(n, ca.Q);
                a = Tape.NewTensor(new Shape(_batch, 1, _inner));
                Attend(q, _crossK[l], _crossV[l], _promptLen, _promptLen, null, _encMask, a);
                h = Ops.Add(h, Ops.Linear(a, ca.O));

                n = Ops.RmsNorm(h, block.FeedForwardNorm, eps);
                h = Ops.Add(h, block.FeedForward.Forward(n));
            }
            h = Ops.RmsNorm(h, _model.Decoder.FinalLayerNorm, eps);
            return _model.Logits(h);
        }

        /// <summary>
        /// One query per row against the first <paramref name="length"/> keys of a [B, stride, inner]
        /// cache: out = softmax(q·kᵀ + bias, masked)·v, per head. bias: [H, length] or null.
        /// </summary>
        private void Attend(Tensor q, Tensor keys, Tensor values, int stride, int length, float[]? bias, Tensor? mask, Tensor output)
        {
            var scores = _scores.AsSpan(0, length);
            for (int i = 0; i < _batch; i++)
            for (int hd = 0; hd < _heads; hd++)
            {
                var qh = new ReadOnlySpan<float>(q.Data + (long)i * _inner + hd * _dk, _dk);
                float max = float.NegativeInfinity;
                for (int j = 0; j < length; j++)
                {
                    if (mask is not null && mask[i * length + j] == 0f) { scores[j] = float.NegativeInfinity; continue; }
                    var kj = new ReadOnlySpan<float>(keys.Data + ((long)i * stride + j) * _inner + hd * _dk, _dk);
                    float s = TensorPrimitives.Dot(qh, kj) + (bias is null ? 0f : bias[hd * length + j]);
                    scores[j] = s;
                    if (s > max) max = s;
                }
                var oh = new Span<float>(output.Data + (long)i * _inner + hd * _dk, _dk);
                oh.Clear();
                if (float.IsNegativeInfinity(max)) continue; // every key masked
                float sum = 0;
                for (int j = 0; j < length; j++) { float e = float.IsNegativeInfinity(scores[j]) ? 0f : MathF.Exp(scores[j] - max); scores[j] = e; sum += e; }
                for (int j = 0; j < length; j++)
                {
                    if (scores[j] == 0f) continue;
                    var vj = new ReadOnlySpan<float>(values.Data + ((long)i * stride + j) * _inner + hd * _dk, _dk);
                    TensorPrimitives.MultiplyAdd(vj, scores[j] / sum, oh, oh);
                }
            }
        }

        public void Dispose()
        {
            foreach (var t in _selfK) t.Dispose();
            foreach (var t in _selfV) t.Dispose();
        }
    }
}
