using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// y = x·Wᵀ (no bias; T5's Linear layers have none).
    /// x: [..., in], W: [out, in] (PyTorch layout) → y: [..., out].
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight)
    {
        int inF = weight.Shape[1], outF = weight.Shape[0];
        if (x.Shape.Last != inF) throw new ArgumentException($"Linear: input {x.Shape} does not end in {inF} (weight {weight.Shape} {weight.Name})");
        int rows = x.Shape.Rows;
        var yShape = WithLast(x.Shape, outF);
        var y = Tape.NewTensor(yShape);
        Gemm.Compute(GemmLayout.NT, rows, outF, inF, x.Data, inF, weight.Data, inF, y.Data, outF, accumulate: false);
        if (Tape.RecordingFor(x, weight) is { } tape)
            tape.Record(new TapeRecord { Backward = &LinearBackward, Out = y, A = x, B = weight, I0 = rows, I1 = inF, I2 = outF });
        return y;
    }

    // dX[rows,in] += dY[rows,out]·W[out,in];  dW[out,in] += dYᵀ[out,rows]·X[rows,in]
    private static void LinearBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        int rows = r.I0, inF = r.I1, outF = r.I2;
        if (tape.GradForWrite(r.A, out bool overwrite) is { } dx)
            Gemm.Compute(GemmLayout.NN, rows, inF, outF, dy.Data, outF, r.B!.Data, inF, dx.Data, inF, accumulate: !overwrite);
        if (tape.GradOf(r.B) is { } dw)
            Gemm.Compute(GemmLayout.TN, outF, inF, rows, dy.Data, outF, r.A!.Data, inF, dw.Data, inF, accumulate: true);
    }

    /// <summary>
    /// y = x·Wᵀ with a frozen weight stored in bfloat16 (no bias), widened to float32 inside the GEMM's
    /// packing: the result is bit-identical to <see cref="Linear(Tensor, Tensor)"/> with
    /// <c>weight.ToFloat32()</c>. x: [..., in], W: [out, in] → y: [..., out]. Backward gives dx only.
    /// </summary>
    public static Tensor Linear(Tensor x, BFloat16Matrix weight)
    {
        int inF = weight.Cols, outF = weight.Rows;
        if (x.Shape.Last != inF) throw new ArgumentException($"Linear: input {x.Shape} does not end in {inF} (bfloat16 weight [{outF}, {inF}] {weight.Name})");
        int rows = x.Shape.Rows;
        var y = Tape.NewTensor(WithLast(x.Shape, outF));
        Gemm.ComputeBFloat16B(GemmLayout.NT, rows, outF, inF, x.Data, inF, weight.Data, inF, y.Data, outF, accumulate: false);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &LinearFrozenBackward, Out = y, A = x, Extra = weight, I0 = rows, I1 = inF, I2 = outF });
        return y;
    }

    // dX[rows,in] += dY[rows,out]·W[out,in], W bfloat16 (Extra); no weight gradient.
    private static void LinearFrozenBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        var weight = (BFloat16Matrix)r.Extra!;
        int rows = r.I0, inF = r.I1, outF = r.I2;
        if (tape.GradForWrite(r.A, out bool overwrite) is { } dx)
            Gemm.ComputeBFloat16B(GemmLayout.NN, rows, inF, outF, dy.Data, outF, weight.Data, inF, dx.Data, inF, accumulate: !overwrite);
    }

    /// <summary>The shape with its last extent replaced.</summary>
    internal static Shape WithLast(Shape s, int last) => s.Rank switch
    {
        0 or 1 => new Shape(last),
        2 => new Shape(s[0], last),
        3 => new Shape(s[0], s[1], last),
        _ => new Shape(s[0], s[1], s[2], last),
    };
}
