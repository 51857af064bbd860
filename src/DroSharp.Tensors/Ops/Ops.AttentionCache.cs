using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// T5-style attention (no scaling) of new queries over a key/value cache, for decoding; no
    /// gradient. q: [B, Tq, H·dk]; keyCache, valueCache: [B, capacity, H·dk] of which the first
    /// <paramref name="validKeys"/> positions are filled; positionBias [H, Tq, validKeys] or null;
    /// keyMask [B, validKeys] or null; causal: query i sees keys j ≤ i + validKeys − Tq.
    /// → [B, Tq, H·dk], the same values as <see cref="Attention"/> on the filled part.
    /// </summary>
    public static Tensor AttentionOverCache(Tensor q, Tensor keyCache, Tensor valueCache, int validKeys, int heads,
        Tensor? positionBias, Tensor? keyMask, bool causal)
    {
        if (q.Shape.Rank != 3 || keyCache.Shape.Rank != 3 || valueCache.Shape != keyCache.Shape)
            throw new ArgumentException($"AttentionOverCache: q {q.Shape}, caches {keyCache.Shape} / {valueCache.Shape} must be [B, T, H·dk]");
        int b = q.Shape[0], tq = q.Shape[1], hd = q.Shape[2], capacity = keyCache.Shape[1];
        if (keyCache.Shape[0] != b || keyCache.Shape[2] != hd)
            throw new ArgumentException($"AttentionOverCache: cache {keyCache.Shape} does not match q {q.Shape}");
        if (validKeys < 1 || validKeys > capacity) throw new ArgumentOutOfRangeException(nameof(validKeys), $"AttentionOverCache: {validKeys} valid keys in a cache of {capacity}");
        if (heads <= 0 || hd % heads != 0) throw new ArgumentException($"AttentionOverCache: {heads} heads do not divide {hd}");
        if (positionBias is not null && positionBias.Shape != new Shape(heads, tq, validKeys))
            throw new ArgumentException($"AttentionOverCache: position bias {positionBias.Shape} is not [{heads}, {tq}, {validKeys}]");
        if (keyMask is not null && keyMask.Shape != new Shape(b, validKeys))
            throw new ArgumentException($"AttentionOverCache: key mask {keyMask.Shape} is not [{b}, {validKeys}]");
        var y = Tape.NewTensor(q.Shape);
        // probs: [B, H, Tq, Tk] scratch (the kernel writes P; nothing keeps it).
        var probs = Tape.NewTensor(new Shape(b, heads, tq, validKeys));
        AttentionKernel.Forward(q.Data, keyCache.Data, valueCache.Data,
            positionBias is null ? null : positionBias.Data, keyMask is null ? null : keyMask.Data,
            y.Data, probs.Data, b, heads, tq, validKeys, hd / heads, causal,
            kvBatchStride: (long)capacity * hd, keyMaskBatchStride: validKeys);
        if (probs.OwnsMemory) probs.Dispose();
        return y;
    }
}
