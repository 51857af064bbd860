using System.Buffers;

namespace DroSharp.Tensors.Distributed;

/// <summary>
/// The trainer's data-parallel step: after the backward passes of all micro-batches and before
/// clipping, every parameter's <see cref="Tensor.Grad"/> becomes the sum of that gradient over all
/// ranks. Small gradients are packed, in list order, into one contiguous bucket of at most
/// <c>bucketElements</c> floats that is reduced with one <see cref="IGradientReducer.SumInPlace(Span{float})"/>
/// call when full; a gradient of at least a bucket is reduced in place, without a copy. The calls
/// depend only on the list and the gradient lengths, so every rank makes the same calls.
/// </summary>
public static class GradientAllReduce
{
    /// <summary>4 Mi floats (16 MiB) per bucket.</summary>
    public const int DefaultBucketElements = 1 << 22;

    /// <summary>
    /// Sums each parameter's gradient across ranks, in place. Every rank passes the same parameters
    /// in the same order, each once (a tensor listed twice would be summed twice). A parameter without a gradient on this rank counts as zeros if another rank
    /// has one (it gets a gradient here too); one without a gradient on every rank keeps none, as in
    /// one process. One rank (<see cref="IGradientReducer.WorldSize"/> = 1): nothing to do.
    /// </summary>
    public static void AllReduceGradients(this IGradientReducer reducer, IReadOnlyList<Tensor> parameters,
        int bucketElements = DefaultBucketElements)
    {
        ArgumentNullException.ThrowIfNull(reducer);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketElements, 1);
        if (reducer.WorldSize == 1 || parameters.Count == 0) return;

        // Which parameters have a gradient on some rank: Σ over ranks of (Grad != null), exact in double.
        double[] present = ArrayPool<double>.Shared.Rent(parameters.Count);
        try
        {
            var flags = present.AsSpan(0, parameters.Count);
            for (int i = 0; i < flags.Length; i++) flags[i] = parameters[i].Grad is null ? 0 : 1;
            reducer.SumInPlace(flags);
            for (int i = 0; i < flags.Length; i++)
                if (flags[i] > 0) parameters[i].EnsureGrad();
        }
        finally { ArrayPool<double>.Shared.Return(present); }

        long packed = 0;
        for (int i = 0; i < parameters.Count; i++)
            if (parameters[i].Grad is { } g && g.Length < bucketElements) packed += g.Length;

        float[] bucket = ArrayPool<float>.Shared.Rent((int)Math.Min(packed, bucketElements));
        try
        {
            // Tensors whose gradients sit in the bucket, and how much of it they fill.
            int first = 0, filled = 0;
            for (int i = 0; i < parameters.Count; i++)
            {
                if (parameters[i].Grad is not { } g) continue;
                if (g.Length >= bucketElements)
                {
                    reducer.SumInPlace(g.Span);
                    continue;
                }
                if (filled + g.Length > bucketElements)
                {
                    Flush(reducer, parameters, first, i, bucket, filled, bucketElements);
                    first = i;
                    filled = 0;
                }
                if (filled == 0) first = i;
                g.Span.CopyTo(bucket.AsSpan(filled));
                filled += g.Length;
            }
            Flush(reducer, parameters, first, parameters.Count, bucket, filled, bucketElements);
        }
        finally { ArrayPool<float>.Shared.Return(bucket); }
    }

    /// <summary>Reduces bucket[0, filled) and copies it back into the packed gradients of parameters [first, end).</summary>
    private static void Flush(IGradientReducer reducer, IReadOnlyList<Tensor> parameters, int first, int end,
        float[] bucket, int filled, int bucketElements)
    {
        if (filled == 0) return;
        reducer.SumInPlace(bucket.AsSpan(0, filled));
        int offset = 0;
        for (int i = first; i < end; i++)
        {
            if (parameters[i].Grad is not { } g || g.Length >= bucketElements) continue;
            bucket.AsSpan(offset, g.Length).CopyTo(g.Span);
            offset += g.Length;
        }
        if (offset != filled) throw new InvalidOperationException("gradient bucket out of step with its tensors");
    }
}
