using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.T5;

/// <summary>
/// The encoder or decoder stack (<c>encoder.*</c> / <c>decoder.*</c>). Block 0 owns the relative
/// position bias table; the bias it computes is shared by every block. Token embeddings belong to
/// the parent (<c>shared.weight</c>).
/// </summary>
public sealed class T5Stack
{
    private readonly T5Config _cfg;
    private readonly Dictionary<(int, int), int[]> _bucketCache = new();

    public bool IsDecoder { get; }
    public IReadOnlyList<T5Block> Blocks { get; }
    public Tensor FinalLayerNorm { get; }

    public T5Stack(ParameterSet ps, string prefix, T5Config cfg, bool isDecoder)
    {
        _cfg = cfg;
        IsDecoder = isDecoder;
        int n = isDecoder ? cfg.NumDecoderLayers : cfg.NumLayers;
        var blocks = new T5Block[n];
        for (int i = 0; i < n; i++)
            blocks[i] = new T5Block(ps, $"{prefix}.block.{i}", cfg, isDecoder, hasRelativeAttentionBias: i == 0);
        Blocks = blocks;
        FinalLayerNorm = ps.Create($"{prefix}.final_layer_norm.weight", new Shape(cfg.DModel));
    }

    /// <summary>Bucket ids [qLen, kLen] for this stack's direction, cached per size.</summary>
    public int[] Buckets(int qLen, int kLen)
    {
        if (!_bucketCache.TryGetValue((qLen, kLen), out var b))
        {
            b = RelativePositionBucket.Table(qLen, kLen, bidirectional: !IsDecoder,
                _cfg.RelativeAttentionNumBuckets, _cfg.RelativeAttentionMaxDistance);
            _bucketCache[(qLen, kLen)] = b;
        }
        return b;
    }

    /// <summary>
    /// embeds: [B, T, d] → final-layer-normed hidden states [B, T, d]. Encoder: <paramref name="mask"/>
    /// is the padding mask [B, T]. Decoder: causal self-attention only (HF's default without a
    /// decoder attention mask) and cross-attention over encoderHidden masked by encoderMask.
    /// While decoding, <paramref name="caches"/> (one per block) hold what earlier steps computed and
    /// the T new positions start at <paramref name="positionOffset"/>. On a tape with
    /// <see cref="Tape.GradientCheckpointing"/> each block is recomputed in backward, and without recording each block's
    /// intermediates are freed when it is done (<see cref="Tape.RunsBlocksApart"/>).
    /// </summary>
    public Tensor Forward(Tensor embeds, Tensor? mask, Tensor? encoderHidden = null, Tensor? encoderMask = null,
        IReadOnlyList<T5LayerCache>? caches = null, int positionOffset = 0)
    {
        int t = embeds.Shape[1];
        var table = Blocks[0].SelfAttention.RelativeAttentionBias!;
        int keys = positionOffset + t;
        var buckets = positionOffset == 0 ? Buckets(t, t)
            : RelativePositionBucket.Table(t, keys, bidirectional: !IsDecoder, _cfg.RelativeAttentionNumBuckets, _cfg.RelativeAttentionMaxDistance, positionOffset);
        var bias = Ops.PositionBias(table, buckets, t, keys);
        var h = embeds;
        bool checkpoint = caches is null && Tape.Current is { RunsBlocksApart: true };
        for (int i = 0; i < Blocks.Count; i++)
        {
            var block = Blocks[i];
            var selfMask = IsDecoder ? null : mask;
            if (!checkpoint) h = block.Forward(h, bias, selfMask, causal: IsDecoder, encoderHidden, encoderMask, caches?[i]);
            else if (encoderHidden is null) h = Ops.Checkpoint(x => block.Forward(x[0], x[1], selfMask, causal: IsDecoder, null, encoderMask), h, bias);
            else h = Ops.Checkpoint(x => block.Forward(x[0], x[1], selfMask, causal: IsDecoder, x[2], encoderMask), h, bias, encoderHidden);
        }
        return Ops.RmsNorm(h, FinalLayerNorm, (float)_cfg.LayerNormEpsilon);
    }
}
