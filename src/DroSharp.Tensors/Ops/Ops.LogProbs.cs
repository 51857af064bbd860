using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// log softmax(logits)[i, targets[i]] for each row, fused: the [N, V] log-prob matrix is never
    /// written. logits: [N, V] → [N]. A negative target (padding, −100) gives 0 and no gradient.
    /// Backward: dlogits[i, j] = g[i]·(1[j = tᵢ] − softmax(logits)[i, j]), recomputed row by row.
    /// <paramref name="targets"/> belongs to the caller and must not change until backward.
    /// </summary>
    public static Tensor LogSoftmaxGather(Tensor logits, int[] targets)
    {
        int n = logits.Shape.Rows, v = logits.Shape.Last;
        if (targets.Length != n)
            throw new ArgumentException($"LogSoftmaxGather: {targets.Length} targets for {n} rows of logits {logits.Shape}");
        for (int i = 0; i < n; i++)
            if (targets[i] >= v)
                throw new ArgumentOutOfRangeException(nameof(targets), $"LogSoftmaxGather: target {targets[i]} at row {i} is outside the vocabulary [0, {v})");
        var y = Tape.NewTensor(new Shape(n));
        var tape = Tape.RecordingFor(logits);
        // lse: [N], the per-row log-sum-exp, saved for backward only.
        var lse = tape is null ? null : Tape.NewTensor(new Shape(n));
        fixed (int* t = targets) LogSoftmaxGatherKernel.Forward(logits.Data, t, n, v, y.Data, lse is null ? null : lse.Data);
        tape?.Record(new TapeRecord { Backward = &LogSoftmaxGatherBackward, Out = y, A = logits, S0 = lse, Extra = targets, I0 = n, I1 = v });
        return y;
    }

    // dlogits[i, j] += g[i]·(1[j = tᵢ] − exp(logits[i, j] − lseᵢ))   (S0 = lse [N], Extra = targets, I0 = N, I1 = V)
    private static void LogSoftmaxGatherBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradForWrite(r.A, out bool overwrite) is not { } dl) return;
        var targets = (int[])r.Extra!;
        fixed (int* t = targets)
            LogSoftmaxGatherKernel.Backward(r.A!.Data, t, r.S0!.Data, r.Out!.Grad!.Data, dl.Data, r.I0, r.I1, overwrite);
    }
}
