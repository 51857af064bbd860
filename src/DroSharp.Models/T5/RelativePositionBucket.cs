namespace DroSharp.Models.T5;

/// <summary>
/// T5's relative position buckets (Mesh TensorFlow / HF <c>_relative_position_bucket</c>).
/// relative = key position − query position. Bidirectional (encoder): half of the buckets for
/// keys after the query. Causal (decoder): only n = max(−relative, 0) counts. Of the buckets per
/// direction the first half are exact distances, the rest log-spaced up to max_distance; the log
/// part is computed in float32 as HF does, which decides the boundary cases.
/// </summary>
public static class RelativePositionBucket
{
    public static int Compute(int relativePosition, bool bidirectional, int numBuckets, int maxDistance)
    {
        int bucket = 0;
        int n;
        if (bidirectional)
        {
            numBuckets /= 2;
            if (relativePosition > 0) bucket += numBuckets;
            n = Math.Abs(relativePosition);
        }
        else
        {
            n = Math.Max(-relativePosition, 0);
        }
        int maxExact = numBuckets / 2;
        if (n < maxExact) return bucket + n;
        // float32 like torch: log(n.float() / max_exact) / log(max_distance / max_exact) (the divisor is a double scalar cast to float)
        float logRatio = MathF.Log((float)n / maxExact) / (float)Math.Log((double)maxDistance / maxExact);
        int large = maxExact + (int)(logRatio * (numBuckets - maxExact));
        return bucket + Math.Min(large, numBuckets - 1);
    }

    /// <summary>
    /// Buckets for every (query i, key j) pair, row-major [qLen, kLen], with query positions
    /// offset by <paramref name="queryOffset"/> (a decoder step t with a KV cache has query position t).
    /// </summary>
    public static int[] Table(int qLen, int kLen, bool bidirectional, int numBuckets, int maxDistance, int queryOffset = 0)
    {
        var table = new int[qLen * kLen];
        for (int i = 0; i < qLen; i++)
            for (int j = 0; j < kLen; j++)
                table[i * kLen + j] = Compute(j - (i + queryOffset), bidirectional, numBuckets, maxDistance);
        return table;
    }
}
