using DroSharp.Tensors;

namespace DroSharp.Models.Decoder;

/// <summary>
/// One decoder layer (<c>model.layers.{i}</c>), pre-norm residual blocks:
/// <code>
/// Llama style:  h += attn(input_layernorm(h));           h += mlp(post_attention_layernorm(h))
/// Gemma 2/3:    h += post_attention_layernorm(attn(input_layernorm(h)))
///               h += post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h)))
/// </code>
/// </summary>
public sealed class DecoderLayer
{
    private readonly DecoderConfig _c;

    public DecoderLayer(ParameterSet ps, string prefix, DecoderConfig c, int layer)
    {
        _c = c;
        InputLayerNorm = ps.Create($"{prefix}.input_layernorm.weight", new Shape(c.HiddenSize));
        SelfAttention = new DecoderAttention(ps, $"{prefix}.self_attn", c, layer);
        PostAttentionLayerNorm = ps.Create($"{prefix}.post_attention_layernorm.weight", new Shape(c.HiddenSize));
        if (c.SandwichNorms)
        {
            PreFeedforwardLayerNorm = ps.Create($"{prefix}.pre_feedforward_layernorm.weight", new Shape(c.HiddenSize));
            PostFeedforwardLayerNorm = ps.Create($"{prefix}.post_feedforward_layernorm.weight", new Shape(c.HiddenSize));
        }
        Mlp = new DecoderMlp(ps, $"{prefix}.mlp", c);
    }

    public Tensor InputLayerNorm { get; }
    public DecoderAttention SelfAttention { get; }
    public Tensor PostAttentionLayerNorm { get; }
    public Tensor? PreFeedforwardLayerNorm { get; }
    public Tensor? PostFeedforwardLayerNorm { get; }
    public DecoderMlp Mlp { get; }

    private Tensor Norm(Tensor x, Tensor w) => Ops.RmsNorm(x, w, (float)_c.RmsNormEps, _c.NormPlusOne);

    /// <summary>h: [B, T, hidden] → [B, T, hidden] (see <see cref="DecoderAttention.Forward"/> for the rest).</summary>
    public Tensor Forward(Tensor h, (RopeTable Table, int[] Rows)? rope, Tensor? keyMask, KeyValueCache? cache = null, int[]? promptLengths = null)
    {
        var a = SelfAttention.Forward(Norm(h, InputLayerNorm), rope, keyMask, cache, promptLengths);
        if (_c.SandwichNorms)
        {
            h = Ops.Add(h, Norm(a, PostAttentionLayerNorm));
            return Ops.Add(h, Norm(Mlp.Forward(Norm(h, PreFeedforwardLayerNorm!)), PostFeedforwardLayerNorm!));
        }
        h = Ops.Add(h, a);
        return Ops.Add(h, Mlp.Forward(Norm(h, PostAttentionLayerNorm)));
    }
}
