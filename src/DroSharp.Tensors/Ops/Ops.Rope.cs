using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// Rotary position embedding, Hugging Face rotate-half layout (see <see cref="RopeKernel"/>): in each
    /// of the <paramref name="heads"/> heads of <paramref name="headDim"/> dims, the first
    /// table.RotaryDim dims become x·cos + rotate_half(x)·sin, rotate_half(x) = [−x2, x1], at the
    /// row's position; the others pass through (partial rotary). x: [..., heads·headDim] with
    /// positions.Length rows ([B, T, H·D] with positions [B·T]). <paramref name="positions"/> belongs to
    /// the caller and must not change until backward. Backward rotates the gradient by −θ.
    /// </summary>
    public static Tensor Rope(Tensor x, RopeTable table, int[] positions, int heads, int headDim)
    {
        if (heads <= 0 || headDim <= 0 || x.Shape.Last != heads * headDim)
            throw new ArgumentException($"Rope: input {x.Shape} does not end in {heads} heads × {headDim} dims");
        if (table.RotaryDim > headDim)
            throw new ArgumentException($"Rope: the table rotates {table.RotaryDim} dims, more than the head's {headDim}");
        int rows = x.Shape.Rows;
        if (positions.Length != rows) throw new ArgumentException($"Rope: {positions.Length} positions for the {rows} rows of {x.Shape}");
        for (int i = 0; i < positions.Length; i++)
            if ((uint)positions[i] >= (uint)table.MaxPositions)
                throw new ArgumentOutOfRangeException(nameof(positions), $"Rope: position {positions[i]} of row {i} is outside the table's [0, {table.MaxPositions})");
        var y = Tape.NewTensor(x.Shape);
        fixed (int* p = positions)
            RopeKernel.Forward(x.Data, y.Data, table.Cos.Data, table.Sin.Data, p, rows, heads, headDim, table.RotaryDim);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord
            {
                Backward = &RopeBackward, Out = y, A = x, S0 = table.Cos, S1 = table.Sin, Extra = positions,
                I0 = rows, I1 = heads, I2 = headDim, I3 = table.RotaryDim,
            });
        return y;
    }

    // dx += R(−θ)·dy, stored when it is dx's first gradient   (S0 = cos, S1 = sin [maxPositions, rotary/2];
    // Extra = positions; I0..I3 = rows, heads, headDim, rotary dim)
    private static void RopeBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradForWrite(r.A, out bool store) is not { } dx) return;
        var positions = (int[])r.Extra!;
        fixed (int* p = positions)
            RopeKernel.Backward(r.Out!.Grad!.Data, dx.Data, r.S0!.Data, r.S1!.Data, p, r.I0, r.I1, r.I2, r.I3, store);
    }
}
