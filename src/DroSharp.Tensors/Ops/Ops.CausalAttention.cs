using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// Causal self-attention of decoder-only models with grouped-query heads, soft-capping and a
    /// sliding window (Hugging Face transformers 4.55 eager attention, see <see cref="CausalAttentionKernel"/>).
    /// q: [B, T, Hq·D]; k, v: [B, T, Hkv·D] (heads interleaved in the last axis, as Linear makes them);
    /// Hq must be a multiple of Hkv (query head h uses kv head h / (Hq/Hkv)). → [B, T, Hq·D].
    /// <code>
    /// s = scale·q·kᵀ;  s ← softCap·tanh(s/softCap) if softCap &gt; 0
    /// query i sees key j iff j ≤ i, j &gt; i − slidingWindow (if slidingWindow &gt; 0) and keyMask[b, j] ≠ 0
    /// </code>
    /// keyMask: [B, T], 1 = token, 0 = padding, or null. A query row that sees no key gives zeros (and
    /// no gradient). Memory: only the row log-sum-exp [B, Hq, T] is kept for backward, which recomputes
    /// the probabilities blockwise. Backward gives dq, dk and dv (dk, dv summed over the query heads
    /// sharing a kv head). Bit-identical run to run and for any thread count.
    /// </summary>
    public static Tensor CausalAttention(Tensor q, Tensor k, Tensor v, int queryHeads, int keyValueHeads,
        float scale, float softCap, int slidingWindow, Tensor? keyMask)
    {
        if (q.Shape.Rank != 3 || k.Shape.Rank != 3 || v.Shape.Rank != 3)
            throw new ArgumentException($"CausalAttention: q {q.Shape}, k {k.Shape}, v {v.Shape} must be [B, T, heads·head_dim]");
        int b = q.Shape[0], t = q.Shape[1];
        ValidateHeads("CausalAttention", queryHeads, keyValueHeads, q.Shape[2], k.Shape[2], out int d);
        if (k.Shape != new Shape(b, t, keyValueHeads * d) || v.Shape != k.Shape)
            throw new ArgumentException($"CausalAttention: k {k.Shape} and v {v.Shape} must both be [{b}, {t}, {keyValueHeads * d}] for q {q.Shape}");
        ValidateAttentionScalars("CausalAttention", scale, softCap, slidingWindow);
        if (keyMask is not null && keyMask.Shape != new Shape(b, t))
            throw new ArgumentException($"CausalAttention: key mask {keyMask.Shape} is not [{b}, {t}]");

        var y = Tape.NewTensor(q.Shape);
        // lse: [B, Hq, T], the log-sum-exp of each query row, all backward needs besides the inputs and y.
        var lse = Tape.NewTensor(new Shape(b, queryHeads, t));
        CausalAttentionKernel.Forward(q.Data, k.Data, v.Data, keyMask is null ? null : keyMask.Data, y.Data, lse.Data,
            b, t, queryHeads, keyValueHeads, d, scale, softCap, slidingWindow);
        if (Tape.RecordingFor(q, k, v) is { } tape)
        {
            // The mask is copied: the caller may reuse its buffer before backward.
            Tensor? maskCopy = null;
            if (keyMask is not null)
            {
                maskCopy = Tape.NewTensor(keyMask.Shape);
                maskCopy.CopyFrom(keyMask);
            }
            tape.Record(new TapeRecord
            {
                Backward = &CausalAttentionBackward, Out = y, A = q, B = k, C = v, S0 = lse, S1 = maskCopy,
                I0 = b, I1 = t, I2 = queryHeads, I3 = keyValueHeads, I4 = d, I5 = slidingWindow, F0 = scale, F1 = softCap,
            });
        }
        else if (lse.OwnsMemory)
            lse.Dispose(); // no tape: the log-sum-exp was scratch
        return y;
    }

    // dq, dk, dv += … (A = q, B = k, C = v, Out = y, S0 = lse [B, Hq, T], S1 = key mask [B, T] or null;
    //  I0..I5 = B, T, Hq, Hkv, D, sliding window; F0 = scale, F1 = soft cap)
    private static void CausalAttentionBackward(ref TapeRecord r, Tape tape)
    {
        var dq = tape.GradOf(r.A);
        var dk = tape.GradOf(r.B);
        var dv = tape.GradOf(r.C);
        CausalAttentionKernel.Backward(r.A!.Data, r.B!.Data, r.C!.Data, r.S1 is null ? null : r.S1.Data, r.Out!.Data, r.S0!.Data,
            r.Out.Grad!.Data, dq is null ? null : dq.Data, dk is null ? null : dk.Data, dv is null ? null : dv.Data,
            r.I0, r.I1, r.I2, r.I3, r.I4, r.F0, r.F1, r.I5);
    }

    /// <summary>
    /// One decoding step against a key/value cache, no gradient: the new query of each batch row
    /// attends the first keyLengths[b] slots of the caches (itself included: it is at position
    /// keyLengths[b] − 1, its own k and v already written there). Same masking, grouping, scale and
    /// soft-capping as <see cref="CausalAttention"/>, whose values on the whole prefix it reproduces.
    /// q: [B, 1, Hq·D]; kCache, vCache: [B, Capacity, Hkv·D] → [B, 1, Hq·D].
    /// </summary>
    public static Tensor CachedAttention(Tensor q, Tensor kCache, Tensor vCache, int[] keyLengths, int queryHeads, int keyValueHeads,
        float scale, float softCap, int slidingWindow)
    {
        if (q.Shape.Rank != 3 || q.Shape[1] != 1)
            throw new ArgumentException($"CachedAttention: q {q.Shape} must be [B, 1, heads·head_dim]");
        if (kCache.Shape.Rank != 3 || vCache.Shape != kCache.Shape)
            throw new ArgumentException($"CachedAttention: caches {kCache.Shape} and {vCache.Shape} must both be [B, capacity, kv_heads·head_dim]");
        int b = q.Shape[0], capacity = kCache.Shape[1];
        ValidateHeads("CachedAttention", queryHeads, keyValueHeads, q.Shape[2], kCache.Shape[2], out int d);
        if (kCache.Shape[0] != b) throw new ArgumentException($"CachedAttention: caches {kCache.Shape} hold {kCache.Shape[0]} rows, q {q.Shape} has {b}");
        ValidateAttentionScalars("CachedAttention", scale, softCap, slidingWindow);
        if (keyLengths.Length != b) throw new ArgumentException($"CachedAttention: {keyLengths.Length} key lengths for {b} batch rows");
        for (int i = 0; i < b; i++)
            if (keyLengths[i] < 0 || keyLengths[i] > capacity)
                throw new ArgumentOutOfRangeException(nameof(keyLengths), $"CachedAttention: key length {keyLengths[i]} of batch row {i} is outside [0, {capacity}] (the cache capacity)");
        var y = Tape.NewTensor(q.Shape);
        fixed (int* lengths = keyLengths)
            CachedAttentionKernel.Forward(q.Data, kCache.Data, vCache.Data, lengths, y.Data, b, capacity, queryHeads, keyValueHeads, d, scale, softCap, slidingWindow);
        return y;
    }

    /// <summary>
    /// Copies <paramref name="values"/> [B, n, W] into <paramref name="cache"/> [B, Capacity, W] at slots
    /// startPositions[b] … startPositions[b] + n − 1 of each batch row (the KV cache's write; no gradient).
    /// </summary>
    public static void WriteCache(Tensor cache, Tensor values, int[] startPositions)
    {
        if (cache.Shape.Rank != 3 || values.Shape.Rank != 3 || cache.Shape[0] != values.Shape[0] || cache.Shape[2] != values.Shape[2])
            throw new ArgumentException($"WriteCache: values {values.Shape} do not fit a cache {cache.Shape}; expected [B, n, W] and [B, capacity, W]");
        int b = cache.Shape[0], capacity = cache.Shape[1], n = values.Shape[1], w = cache.Shape[2];
        if (startPositions.Length != b) throw new ArgumentException($"WriteCache: {startPositions.Length} start positions for {b} batch rows");
        for (int i = 0; i < b; i++)
        {
            int p = startPositions[i];
            if (p < 0 || p + n > capacity)
                throw new ArgumentOutOfRangeException(nameof(startPositions), $"WriteCache: slots {p} … {p + n - 1} of batch row {i} are outside the cache capacity {capacity}");
            long bytes = (long)n * w * sizeof(float);
            Buffer.MemoryCopy(values.Data + (long)i * n * w, cache.Data + ((long)i * capacity + p) * w, bytes, bytes);
        }
    }

    private static void ValidateHeads(string op, int queryHeads, int keyValueHeads, int qWidth, int kWidth, out int headDim)
    {
        if (queryHeads <= 0 || keyValueHeads <= 0 || queryHeads % keyValueHeads != 0)
            throw new ArgumentException($"{op}: {queryHeads} query heads are not a positive multiple of {keyValueHeads} key/value heads");
        if (qWidth % queryHeads != 0 || qWidth / queryHeads == 0)
            throw new ArgumentException($"{op}: {queryHeads} query heads do not divide the query width {qWidth}");
        headDim = qWidth / queryHeads;
        if (kWidth != keyValueHeads * headDim)
            throw new ArgumentException($"{op}: key width {kWidth} is not {keyValueHeads} key/value heads × head_dim {headDim}");
    }

    private static void ValidateAttentionScalars(string op, float scale, float softCap, int slidingWindow)
    {
        if (!(scale > 0f) || !float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), $"{op}: scale {scale} must be a positive number");
        if (!(softCap >= 0f) || !float.IsFinite(softCap)) throw new ArgumentOutOfRangeException(nameof(softCap), $"{op}: soft cap {softCap} must be 0 (none) or positive");
        if (slidingWindow < 0) throw new ArgumentOutOfRangeException(nameof(slidingWindow), $"{op}: sliding window {slidingWindow} must be 0 (none) or positive");
    }
}
