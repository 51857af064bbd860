namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// Fused multi-head attention per (batch, head), T5-style (no 1/√d scaling):
    /// out = softmax(q·kᵀ + bias + mask)·v.
    /// q: [B, Tq, H·dk]; k, v: [B, Tk, H·dk] (heads interleaved in the last axis, as the Linear
    /// projections produce them); positionBias: [H, Tq, Tk] shared by the batch, or null;
    /// keyMask: [B, Tk] with 1 = attend, 0 = padding, or null; causal: query i sees keys ≤ i
    /// (requires Tq = Tk, or with a KV cache, keys ≤ i + Tk − Tq). → [B, Tq, H·dk].
    /// Backward gives dq, dk, dv and d(positionBias) summed over the batch.
    /// A query row whose keys are all masked gives zeros.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, Tensor? positionBias, Tensor? keyMask, bool causal)
        => throw new NotImplementedException();
}
