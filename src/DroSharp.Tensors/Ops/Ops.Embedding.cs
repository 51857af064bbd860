namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// Rows of <paramref name="weight"/> [vocab, d] for each id → [ids.Length, d]; backward
    /// scatter-adds into the weight's gradient. <paramref name="ids"/> belongs to the caller and
    /// must not change until backward. An id outside [0, vocab) is an error naming it.
    /// </summary>
    public static Tensor Embedding(Tensor weight, int[] ids) => throw new NotImplementedException();

    /// <summary>
    /// T5's relative position bias: table [numBuckets, heads] gathered by
    /// <paramref name="buckets"/> (row-major [qLen, kLen]) and laid out as [heads, qLen, kLen].
    /// Backward scatter-adds into the table's gradient.
    /// </summary>
    public static Tensor PositionBias(Tensor table, int[] buckets, int qLen, int kLen) => throw new NotImplementedException();
}
