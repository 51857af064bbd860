using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Decoder;

/// <summary>
/// Self-attention of one decoder layer (<c>model.layers.{i}.self_attn</c>): q/k/v/o projections
/// (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>, or Phi-3's fused <c>qkv_proj</c>), optional
/// per-head <c>q_norm</c>/<c>k_norm</c> (Qwen3, Gemma 3) before RoPE, RoPE unless the layer is NoPE, and
/// causal grouped-query attention with the layer's sliding window, the config's scale and soft cap.
/// While decoding it writes its keys and values into a <see cref="KeyValueCache"/>.
/// </summary>
public sealed class DecoderAttention
{
    private readonly DecoderConfig _c;

    public DecoderAttention(ParameterSet ps, string prefix, DecoderConfig c, int layer)
    {
        _c = c;
        Layer = layer;
        Window = c.LayerWindows[layer];
        UsesRope = c.LayerUsesRope[layer];
        UsesLocalRope = c.LayerUsesLocalRope[layer];
        if (c.FusedProjections)
            QkvProj = new Linear(ps, $"{prefix}.qkv_proj", c.HiddenSize, c.QueryWidth + 2 * c.KeyValueWidth, c.QkvBias);
        else
        {
            QProj = new Linear(ps, $"{prefix}.q_proj", c.HiddenSize, c.QueryWidth, c.QkvBias);
            KProj = new Linear(ps, $"{prefix}.k_proj", c.HiddenSize, c.KeyValueWidth, c.QkvBias);
            VProj = new Linear(ps, $"{prefix}.v_proj", c.HiddenSize, c.KeyValueWidth, c.QkvBias);
        }
        OProj = new Linear(ps, $"{prefix}.o_proj", c.QueryWidth, c.HiddenSize, c.OutputBias);
        if (c.QkNorm)
        {
            QNorm = ps.Create($"{prefix}.q_norm.weight", new Shape(c.HeadDim));
            KNorm = ps.Create($"{prefix}.k_norm.weight", new Shape(c.HeadDim));
        }
    }

    public int Layer { get; }

    /// <summary>The sliding window (0: full attention).</summary>
    public int Window { get; }

    public bool UsesRope { get; }

    public bool UsesLocalRope { get; }

    public Linear? QProj { get; }
    public Linear? KProj { get; }
    public Linear? VProj { get; }
    public Linear? QkvProj { get; }
    public Linear OProj { get; }
    public Tensor? QNorm { get; }
    public Tensor? KNorm { get; }

    /// <summary>
    /// x: [B, T, hidden] (normed) → [B, T, hidden]. <paramref name="rope"/> gives the table and each
    /// token's table row. Without a cache: training and scoring (keyMask [B, T] for right padding).
    /// With an empty cache: the prompt (prefill), whose first promptLengths[b] keys/values per row are
    /// cached. With a filled cache: one new token per row (T = 1) attending to the cache.
    /// </summary>
    public Tensor Forward(Tensor x, (RopeTable Table, int[] Rows)? rope, Tensor? keyMask, KeyValueCache? cache = null, int[]? promptLengths = null)
    {
        int b = x.Shape[0], t = x.Shape[1];
        Tensor q, k, v;
        if (QkvProj is not null)
        {
            var qkv = QkvProj.Forward(x);
            q = Ops.SliceLastAxis(qkv, 0, _c.QueryWidth);
            k = Ops.SliceLastAxis(qkv, _c.QueryWidth, _c.KeyValueWidth);
            v = Ops.SliceLastAxis(qkv, _c.QueryWidth + _c.KeyValueWidth, _c.KeyValueWidth);
        }
        else
        {
            q = QProj!.Forward(x);
            k = KProj!.Forward(x);
            v = VProj!.Forward(x);
        }
        if (QNorm is not null)
        {
            float eps = (float)_c.RmsNormEps;
            q = Ops.Reshape(Ops.RmsNorm(Ops.Reshape(q, new Shape(b * t * _c.NumAttentionHeads, _c.HeadDim)), QNorm, eps, _c.NormPlusOne), q.Shape);
            k = Ops.Reshape(Ops.RmsNorm(Ops.Reshape(k, new Shape(b * t * _c.NumKeyValueHeads, _c.HeadDim)), KNorm!, eps, _c.NormPlusOne), k.Shape);
        }
        if (UsesRope && rope is { } r)
        {
            q = Ops.Rope(q, r.Table, r.Rows, _c.NumAttentionHeads, _c.HeadDim);
            k = Ops.Rope(k, r.Table, r.Rows, _c.NumKeyValueHeads, _c.HeadDim);
        }
        Tensor a;
        if (cache is null || !cache.IsFilled)
        {
            a = Ops.CausalAttention(q, k, v, _c.NumAttentionHeads, _c.NumKeyValueHeads, _c.AttentionScale, _c.AttnLogitSoftcapping, Window, keyMask);
            cache?.Append(k, v, promptLengths);
        }
        else
        {
            cache.Append(k, v);
            a = Ops.CachedAttention(q, cache.Keys, cache.Values, cache.Lengths, _c.NumAttentionHeads, _c.NumKeyValueHeads,
                _c.AttentionScale, _c.AttnLogitSoftcapping, Window);
        }
        return OProj.Forward(a);
    }
}
