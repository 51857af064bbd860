using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Decoder;

/// <summary>
/// The backbone (transformers' <c>XxxModel</c>, parameters under <c>model.</c>): token embeddings
/// (<c>model.embed_tokens.weight</c>, × √hidden for Gemma), the layers, the final norm
/// (<c>model.norm.weight</c>). Shared by the causal LM and the value model.
/// </summary>
public sealed class DecoderModel
{
    private readonly DecoderConfig _c;
    private readonly DecoderRotary _rotary;

    public DecoderModel(ParameterSet ps, string prefix, DecoderConfig c)
    {
        _c = c;
        _rotary = new DecoderRotary(c);
        EmbedTokens = ps.Create($"{prefix}.embed_tokens.weight", new Shape(c.VocabSize, c.HiddenSize));
        var layers = new DecoderLayer[c.NumHiddenLayers];
        for (int i = 0; i < layers.Length; i++) layers[i] = new DecoderLayer(ps, $"{prefix}.layers.{i}", c, i);
        Layers = layers;
        Norm = ps.Create($"{prefix}.norm.weight", new Shape(c.HiddenSize));
    }

    /// <summary>
    /// The backbone's matrix-product FLOPs for rows of the given real lengths (padding is computed
    /// too: every row counts the padded length T in the projections; attention counts each query's
    /// visible keys, i.e. its causal prefix, capped by the layer's window).
    /// </summary>
    public MatmulFlops ForwardFlops(int batch, int paddedLength, IReadOnlyList<int> rowLengths)
    {
        var c = _c;
        double tokens = (double)batch * paddedLength;
        double perTokenLayer = 2.0 * c.HiddenSize * (c.QueryWidth + 2 * c.KeyValueWidth) + 2.0 * c.QueryWidth * c.HiddenSize + 2.0 * 3 * c.HiddenSize * c.IntermediateSize;
        double projections = tokens * perTokenLayer * Layers.Count;
        double attention = 0;
        foreach (var layer in Layers)
        {
            int w = layer.SelfAttention.Window;
            foreach (int len in rowLengths)
            {
                // query i sees min(i + 1, w) keys; 2 products (QKᵀ, PV) of 2·D flops per key and head
                double keys = 0;
                for (int i = 0; i < len; i++) keys += w > 0 ? Math.Min(i + 1, w) : i + 1;
                attention += keys * 2 * 2.0 * c.HeadDim * c.NumAttentionHeads;
            }
        }
        return MatmulFlops.Blocks(projections, attention);
    }

    public Tensor EmbedTokens { get; }
    public IReadOnlyList<DecoderLayer> Layers { get; }
    public Tensor Norm { get; }

    /// <summary>
    /// ids [B·T] at positions [B·T] → final-normed hidden states [B, T, hidden]. keyMask [B, T] marks real
    /// tokens (right padding); sequenceLengths[b] is row b's length (for length-dependent RoPE).
    /// With caches (one per layer), see <see cref="DecoderAttention.Forward"/>. On a tape with
    /// <see cref="Tape.GradientCheckpointing"/> each layer is recomputed in backward, and without recording each layer's
    /// intermediates are freed when it is done (<see cref="Tape.RunsBlocksApart"/>).
    /// </summary>
    public Tensor Forward(int[] ids, int[] positions, int batch, Tensor? keyMask, int[] sequenceLengths,
        IReadOnlyList<KeyValueCache>? caches = null, int[]? promptLengths = null)
    {
        int t = ids.Length / batch;
        var h = Ops.Embedding(EmbedTokens, ids);
        if (_c.EmbeddingScale != 1f) h = Ops.Scale(h, _c.EmbeddingScale);
        h = Ops.Reshape(h, new Shape(batch, t, _c.HiddenSize));
        (RopeTable, int[])? global = null, local = null;
        for (int i = 0; i < Layers.Count; i++)
        {
            var attention = Layers[i].SelfAttention;
            (RopeTable, int[])? rope = null;
            if (attention.UsesRope)
                rope = attention.UsesLocalRope
                    ? local ??= _rotary.Prepare(local: true, positions, batch, sequenceLengths)
                    : global ??= _rotary.Prepare(local: false, positions, batch, sequenceLengths);
            var layer = Layers[i];
            if (caches is null && Tape.Current is { RunsBlocksApart: true })
                h = Ops.Checkpoint(x => layer.Forward(x[0], rope, keyMask), h);
            else h = layer.Forward(h, rope, keyMask, caches?[i], promptLengths);
        }
        return Ops.RmsNorm(h, Norm, (float)_c.RmsNormEps, _c.NormPlusOne);
    }
}
