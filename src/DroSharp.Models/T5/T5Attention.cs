using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.T5;

/// <summary>
/// T5 multi-head attention (self or cross), no biases, no 1/√d_kv scaling.
/// <c>{prefix}.q/k/v</c> [inner, d_model], <c>{prefix}.o</c> [d_model, inner] (each a <see cref="Linear"/>),
/// and in block 0 of each stack <c>{prefix}.relative_attention_bias.weight</c> [num_buckets, n_heads].
/// </summary>
public sealed class T5Attention
{
    public Linear Q { get; }
    public Linear K { get; }
    public Linear V { get; }
    public Linear O { get; }
    /// <summary>Relative position bias table [num_buckets, n_heads]; only in block 0 of a stack.</summary>
    public Tensor? RelativeAttentionBias { get; }
    public int Heads { get; }

    public T5Attention(ParameterSet ps, string prefix, T5Config cfg, bool hasRelativeAttentionBias)
    {
        int inner = cfg.NumHeads * cfg.DKv;
        Heads = cfg.NumHeads;
        Q = new Linear(ps, $"{prefix}.q", cfg.DModel, inner);
        K = new Linear(ps, $"{prefix}.k", cfg.DModel, inner);
        V = new Linear(ps, $"{prefix}.v", cfg.DModel, inner);
        O = new Linear(ps, $"{prefix}.o", inner, cfg.DModel);
        if (hasRelativeAttentionBias)
            RelativeAttentionBias = ps.Create($"{prefix}.relative_attention_bias.weight", new Shape(cfg.RelativeAttentionNumBuckets, cfg.NumHeads));
    }

    /// <summary>
    /// x: [B, Tq, d] (already layer-normed), kv: [B, Tk, d] (x itself for self-attention) →
    /// o(softmax(q·kᵀ + bias + mask)·v): [B, Tq, d].
    /// With a <paramref name="cache"/> (decoding): self-attention appends this step's keys and values
    /// and attends over everything cached (bias [H, Tq, cached]); cross-attention (a fill-once cache)
    /// computes the keys and values of <paramref name="kv"/> on its first call only.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor kv, Tensor? positionBias, Tensor? keyMask, bool causal, KeyValueCache? cache = null)
    {
        var q = Q.Forward(x);
        if (cache is null)
        {
            var k = K.Forward(kv);
            var v = V.Forward(kv);
            return O.Forward(Ops.Attention(q, k, v, Heads, positionBias, keyMask, causal));
        }
        if (!cache.FillOnce || !cache.IsFilled) cache.Append(K.Forward(kv), V.Forward(kv));
        var a = Ops.AttentionOverCache(q, cache.Keys, cache.Values, cache.MaxLength, Heads, positionBias, keyMask, causal);
        return O.Forward(a);
    }
}
