using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// Rows of <paramref name="weight"/> [vocab, d] for each id → [ids.Length, d]; backward
    /// scatter-adds into the weight's gradient. <paramref name="ids"/> belongs to the caller and
    /// must not change until backward. An id outside [0, vocab) is an error naming it.
    /// </summary>
    public static Tensor Embedding(Tensor weight, int[] ids)
    {
        if (weight.Shape.Rank != 2) throw new ArgumentException($"Embedding: weight {weight.Name} must be [vocab, d], got {weight.Shape}");
        int vocab = weight.Shape[0], d = weight.Shape[1];
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Embedding: token id {ids[i]} at position {i} is outside [0, {vocab}) of {weight.Name ?? "the embedding table"}");
        var y = Tape.NewTensor(new Shape(ids.Length, d));
        fixed (int* p = ids) EmbeddingKernel.Gather(weight.Data, d, p, ids.Length, y.Data);
        if (Tape.RecordingFor(weight) is { } tape)
            tape.Record(new TapeRecord { Backward = &EmbeddingBackward, Out = y, A = weight, Extra = ids, I0 = ids.Length, I1 = d });
        return y;
    }

    // dW[ids[t], :] += dy[t, :]   (Extra = ids, I0 = n, I1 = d)
    private static void EmbeddingBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradOf(r.A) is not { } dw) return;
        var ids = (int[])r.Extra!;
        fixed (int* p = ids) EmbeddingKernel.ScatterAdd(r.Out!.Grad!.Data, p, r.I0, r.I1, dw.Data);
    }

    /// <summary>
    /// T5's relative position bias: table [numBuckets, heads] gathered by
    /// <paramref name="buckets"/> (row-major [qLen, kLen]) and laid out as [heads, qLen, kLen].
    /// Backward scatter-adds into the table's gradient.
    /// </summary>
    public static Tensor PositionBias(Tensor table, int[] buckets, int qLen, int kLen)
    {
        if (table.Shape.Rank != 2) throw new ArgumentException($"PositionBias: table {table.Name} must be [numBuckets, heads], got {table.Shape}");
        int numBuckets = table.Shape[0], heads = table.Shape[1];
        if (buckets.Length != qLen * kLen)
            throw new ArgumentException($"PositionBias: {buckets.Length} buckets for qLen {qLen} × kLen {kLen}");
        for (int i = 0; i < buckets.Length; i++)
            if ((uint)buckets[i] >= (uint)numBuckets)
                throw new ArgumentOutOfRangeException(nameof(buckets), $"PositionBias: bucket {buckets[i]} at ({i / kLen}, {i % kLen}) is outside [0, {numBuckets}) of {table.Name ?? "the bias table"}");
        var y = Tape.NewTensor(new Shape(heads, qLen, kLen));
        fixed (int* p = buckets) PositionBiasKernel.Forward(table.Data, heads, p, buckets.Length, y.Data);
        if (Tape.RecordingFor(table) is { } tape)
            tape.Record(new TapeRecord { Backward = &PositionBiasBackward, Out = y, A = table, Extra = buckets, I0 = heads });
        return y;
    }

    // dTable[buckets[p], h] += dy[h, p]   (Extra = buckets, I0 = heads)
    private static void PositionBiasBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradOf(r.A) is not { } dt) return;
        var buckets = (int[])r.Extra!;
        fixed (int* p = buckets) PositionBiasKernel.Backward(r.Out!.Grad!.Data, r.I0, p, buckets.Length, dt.Data);
    }

    /// <summary>
    /// Rows of x seen as [N, d] (N = all extents but the last) → [rows.Length, d]; backward scatter-adds
    /// (in row order, so repeated rows are exact). For a value head reading each sequence's hidden state
    /// at its last prompt token. <paramref name="rows"/> belongs to the caller and must not change until backward.
    /// </summary>
    public static Tensor GatherRows(Tensor x, int[] rows)
    {
        int n = x.Shape.Rows, d = x.Shape.Last;
        for (int i = 0; i < rows.Length; i++)
            if ((uint)rows[i] >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(rows), $"GatherRows: row {rows[i]} at index {i} is outside the {n} rows of {x.Shape}");
        var y = Tape.NewTensor(new Shape(rows.Length, d));
        fixed (int* p = rows) EmbeddingKernel.Gather(x.Data, d, p, rows.Length, y.Data);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &GatherRowsBackward, Out = y, A = x, Extra = rows, I0 = rows.Length, I1 = d });
        return y;
    }

    // dx[rows[t], :] += dy[t, :]   (Extra = rows, I0 = count, I1 = d)
    private static void GatherRowsBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradOf(r.A) is not { } dx) return;
        var rows = (int[])r.Extra!;
        fixed (int* p = rows) EmbeddingKernel.ScatterAdd(r.Out!.Grad!.Data, p, r.I0, r.I1, dx.Data);
    }
}
