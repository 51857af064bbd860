using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// T5 multi-head attention (self or cross), no biases, no 1/√d_kv scaling.
/// <c>{prefix}.q/k/v.weight</c> [inner, d_model], <c>{prefix}.o.weight</c> [d_model, inner],
/// and in block 0 of each stack <c>{prefix}.relative_attention_bias.weight</c> [num_buckets, n_heads].
/// </summary>
public sealed class T5Attention
{
    public Tensor Q { get; }
    public Tensor K { get; }
    public Tensor V { get; }
    public Tensor O { get; }
    /// <summary>Relative position bias table [num_buckets, n_heads]; only in block 0 of a stack.</summary>
    public Tensor? RelativeAttentionBias { get; }
    public int Heads { get; }

    public T5Attention(ParameterSet ps, string prefix, T5Config cfg, bool hasRelativeAttentionBias)
    {
        int inner = cfg.NumHeads * cfg.DKv;
        Heads = cfg.NumHeads;
        Q = ps.Create($"{prefix}.q.weight", new Shape(inner, cfg.DModel));
        K = ps.Create($"{prefix}.k.weight", new Shape(inner, cfg.DModel));
        V = ps.Create($"{prefix}.v.weight", new Shape(inner, cfg.DModel));
        O = ps.Create($"{prefix}.o.weight", new Shape(cfg.DModel, inner));
        if (hasRelativeAttentionBias)
            RelativeAttentionBias = ps.Create($"{prefix}.relative_attention_bias.weight", new Shape(cfg.RelativeAttentionNumBuckets, cfg.NumHeads));
    }

    /// <summary>
    /// x: [B, Tq, d] (already layer-normed), kv: [B, Tk, d] (x itself for self-attention) →
    /// o(softmax(q·kᵀ + bias + mask)·v): [B, Tq, d].
    /// </summary>
    public Tensor Forward(Tensor x, Tensor kv, Tensor? positionBias, Tensor? keyMask, bool causal)
    {
        var q = Ops.Linear(x, Q);
        var k = Ops.Linear(kv, K);
        var v = Ops.Linear(kv, V);
        var a = Ops.Attention(q, k, v, Heads, positionBias, keyMask, causal);
        return Ops.Linear(a, O);
    }
}
