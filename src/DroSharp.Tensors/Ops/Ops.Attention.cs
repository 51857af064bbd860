using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

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
    /// The probabilities [B, H, Tq, Tk] are kept in the tape's arena for backward (see <see cref="AttentionKernel"/>).
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, Tensor? positionBias, Tensor? keyMask, bool causal)
    {
        if (q.Shape.Rank != 3 || k.Shape.Rank != 3 || v.Shape.Rank != 3)
            throw new ArgumentException($"Attention: q {q.Shape}, k {k.Shape}, v {v.Shape} must all be [B, T, H·dk]");
        int b = q.Shape[0], tq = q.Shape[1], hd = q.Shape[2], tk = k.Shape[1];
        if (heads <= 0 || hd % heads != 0) throw new ArgumentException($"Attention: {heads} heads do not divide the inner dimension {hd}");
        if (k.Shape[0] != b || k.Shape[2] != hd || v.Shape != k.Shape)
            throw new ArgumentException($"Attention: k {k.Shape} and v {v.Shape} do not match q {q.Shape}; expected [{b}, Tk, {hd}]");
        if (positionBias is not null && positionBias.Shape != new Shape(heads, tq, tk))
            throw new ArgumentException($"Attention: position bias {positionBias.Shape} is not [{heads}, {tq}, {tk}]");
        if (keyMask is not null && keyMask.Shape != new Shape(b, tk))
            throw new ArgumentException($"Attention: key mask {keyMask.Shape} is not [{b}, {tk}]");
        if (causal && tq > tk) throw new ArgumentException($"Attention: causal attention needs Tq ≤ Tk, got Tq {tq}, Tk {tk}");
        int dk = hd / heads;

        var y = Tape.NewTensor(q.Shape);
        // probs: [B, H, Tq, Tk], the softmax probabilities, kept for backward.
        var probs = Tape.NewTensor(new Shape(b, heads, tq, tk));
        AttentionKernel.Forward(q.Data, k.Data, v.Data,
            positionBias is null ? null : positionBias.Data, keyMask is null ? null : keyMask.Data,
            y.Data, probs.Data, b, heads, tq, tk, dk, causal);
        if (Tape.RecordingFor(q, k, v, positionBias) is { } tape)
        {
            // A snapshot of the mask [B, Tk] lets backward skip the padded keys the forward skipped.
            Tensor? maskCopy = null;
            if (keyMask is not null)
            {
                maskCopy = Tape.NewTensor(keyMask.Shape);
                maskCopy.CopyFrom(keyMask);
            }
            tape.Record(new TapeRecord
            {
                Backward = &AttentionBackward, Out = y, A = q, B = k, C = v, D = positionBias, S0 = probs, S1 = maskCopy,
                I0 = b, I1 = heads, I2 = tq, I3 = tk, I4 = dk, I5 = causal ? 1 : 0,
            });
        }
        else if (probs.OwnsMemory)
            probs.Dispose(); // no tape: the probabilities were scratch
        return y;
    }

    // dv += Pᵀ·dO; dS = P ⊙ (dO·vᵀ − rowsum); dq += dS·k; dk += dSᵀ·q; dBias += Σ_b dS
    // (A = q, B = k, C = v, D = bias, S0 = P [B, H, Tq, Tk], S1 = key mask [B, Tk] or null;
    //  I0..I4 = B, H, Tq, Tk, dk; I5 = causal)
    private static void AttentionBackward(ref TapeRecord r, Tape tape)
    {
        int b = r.I0, h = r.I1, tq = r.I2, tk = r.I3, dk = r.I4;
        var dq = tape.GradOf(r.A);
        var dkT = tape.GradOf(r.B);
        var dv = tape.GradOf(r.C);
        var db = tape.GradOf(r.D);
        Tensor? scratch = dq is null && dkT is null && db is null ? null : tape.Arena.Uninitialized(new Shape(b, h, tq, tk));
        AttentionKernel.Backward(r.A!.Data, r.B!.Data, r.C!.Data, r.S0!.Data, r.Out!.Grad!.Data,
            dq is null ? null : dq.Data, dkT is null ? null : dkT.Data, dv is null ? null : dv.Data,
            db is null ? null : db.Data, scratch is null ? null : scratch.Data,
            r.S1 is null ? null : r.S1.Data, r.I5 != 0, b, h, tq, tk, dk);
    }
}
