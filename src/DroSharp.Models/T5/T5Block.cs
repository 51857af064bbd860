using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// One pre-norm T5 block: <c>layer.0</c> self-attention, (decoder) <c>layer.1</c> cross-attention,
/// <c>layer.-1</c> feed-forward; each sub-layer is h + Sublayer(LayerNorm(h)).
/// </summary>
public sealed class T5Block
{
    public T5Attention SelfAttention { get; }
    public Tensor SelfAttentionNorm { get; }
    public T5Attention? CrossAttention { get; }
    public Tensor? CrossAttentionNorm { get; }
    public T5FeedForward FeedForward { get; }
    public Tensor FeedForwardNorm { get; }
    private readonly float _eps;

    public T5Block(ParameterSet ps, string prefix, T5Config cfg, bool isDecoder, bool hasRelativeAttentionBias)
    {
        _eps = (float)cfg.LayerNormEpsilon;
        SelfAttention = new T5Attention(ps, $"{prefix}.layer.0.SelfAttention", cfg, hasRelativeAttentionBias);
        SelfAttentionNorm = ps.Create($"{prefix}.layer.0.layer_norm.weight", new Shape(cfg.DModel));
        int ff = 1;
        if (isDecoder)
        {
            CrossAttention = new T5Attention(ps, $"{prefix}.layer.1.EncDecAttention", cfg, hasRelativeAttentionBias: false);
            CrossAttentionNorm = ps.Create($"{prefix}.layer.1.layer_norm.weight", new Shape(cfg.DModel));
            ff = 2;
        }
        FeedForward = new T5FeedForward(ps, $"{prefix}.layer.{ff}.DenseReluDense", cfg);
        FeedForwardNorm = ps.Create($"{prefix}.layer.{ff}.layer_norm.weight", new Shape(cfg.DModel));
    }

    /// <summary>
    /// h: [B, T, d]. Encoder: selfMask is the padding mask [B, T]. Decoder: causal self-attention,
    /// cross-attention over <paramref name="encoderHidden"/> [B, P, d] masked by <paramref name="encoderMask"/>.
    /// While decoding, <paramref name="cache"/> holds this block's self- and cross-attention caches.
    /// </summary>
    public Tensor Forward(Tensor h, Tensor? positionBias, Tensor? selfMask, bool causal, Tensor? encoderHidden, Tensor? encoderMask,
        T5LayerCache? cache = null)
    {
        var n = Ops.RmsNorm(h, SelfAttentionNorm, _eps);
        h = Ops.Add(h, SelfAttention.Forward(n, n, positionBias, selfMask, causal, cache?.Self));
        if (CrossAttention is not null)
        {
            n = Ops.RmsNorm(h, CrossAttentionNorm!, _eps);
            h = Ops.Add(h, CrossAttention.Forward(n, encoderHidden!, null, encoderMask, causal: false, cache?.Cross));
        }
        n = Ops.RmsNorm(h, FeedForwardNorm, _eps);
        return Ops.Add(h, FeedForward.Forward(n));
    }
}
