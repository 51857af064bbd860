namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// log softmax(logits)[i, targets[i]] for each row, fused: the [N, V] log-prob matrix is never
    /// written. logits: [N, V] → [N]. A negative target (padding, −100) gives 0 and no gradient.
    /// Backward: dlogits[i, j] = g[i]·(1[j = tᵢ] − softmax(logits)[i, j]), recomputed row by row.
    /// </summary>
    public static Tensor LogSoftmaxGather(Tensor logits, int[] targets) => throw new NotImplementedException();
}
