using DroSharp.Tensors.Autograd;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// Columns [start, start + length) of the last axis: x [..., n] → [..., length] (a copy). Backward
    /// adds the gradient into those columns. Splits a fused projection (Phi-3's qkv_proj, gate_up_proj).
    /// </summary>
    public static Tensor SliceLastAxis(Tensor x, int start, int length)
    {
        int n = x.Shape.Last, rows = x.Shape.Rows;
        if (start < 0 || length < 1 || start + length > n)
            throw new ArgumentOutOfRangeException(nameof(start), $"SliceLastAxis: columns [{start}, {start + length}) of {x.Shape}");
        var y = Tape.NewTensor(WithLast(x.Shape, length));
        long bytes = (long)length * sizeof(float);
        for (int r = 0; r < rows; r++)
            Buffer.MemoryCopy(x.Data + (long)r * n + start, y.Data + (long)r * length, bytes, bytes);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &SliceLastAxisBackward, Out = y, A = x, I0 = rows, I1 = n, I2 = start, I3 = length });
        return y;
    }

    // dx[r, start + j] += dy[r, j]   (I0 = rows, I1 = n, I2 = start, I3 = length)
    private static void SliceLastAxisBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradOf(r.A) is not { } dx) return;
        float* dy = r.Out!.Grad!.Data;
        int rows = r.I0, n = r.I1, start = r.I2, length = r.I3;
        for (int i = 0; i < rows; i++)
        {
            var src = new ReadOnlySpan<float>(dy + (long)i * length, length);
            var dst = new Span<float>(dx.Data + (long)i * n + start, length);
            System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
        }
    }
}
