using System.Numerics.Tensors;
using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>Sum over the last axis: [..., n] → [...] (e.g. per-token log-probs [B, T] → sequence log-probs [B]).
    /// A rank-1 input gives [1].</summary>
    public static Tensor SumLastAxis(Tensor x)
    {
        var s = x.Shape;
        var yShape = s.Rank switch
        {
            0 or 1 => new Shape(1),
            2 => new Shape(s[0]),
            3 => new Shape(s[0], s[1]),
            _ => new Shape(s[0], s[1], s[2]),
        };
        int rows = s.Rows, n = s.Last;
        var y = Tape.NewTensor(yShape);
        ReductionKernels.SumRows(x.Data, y.Data, rows, n);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &SumLastAxisBackward, Out = y, A = x, I0 = rows, I1 = n });
        return y;
    }

    // dx[r, :] += dy[r]   (I0 = rows, I1 = n)
    private static void SumLastAxisBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradOf(r.A) is { } dx) ReductionKernels.SumRowsBackward(r.Out!.Grad!.Data, dx.Data, r.I0, r.I1);
    }

    /// <summary>Sum of all elements → [1] (accumulated in double).</summary>
    public static Tensor Sum(Tensor x)
    {
        var y = Tape.NewTensor(new Shape(1));
        y.Data[0] = (float)ReductionKernels.SumAll(x.Data, x.Length);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &SumBackward, Out = y, A = x, F0 = 1f });
        return y;
    }

    /// <summary>Mean of all elements → [1] (accumulated in double).</summary>
    public static Tensor Mean(Tensor x)
    {
        if (x.Length == 0) throw new ArgumentException($"Mean of an empty tensor {x.Shape} {x.Name}");
        var y = Tape.NewTensor(new Shape(1));
        y.Data[0] = (float)(ReductionKernels.SumAll(x.Data, x.Length) / x.Length);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &SumBackward, Out = y, A = x, F0 = 1f / x.Length });
        return y;
    }

    // dx += F0·dy[0]   (F0 = 1 for Sum, 1/n for Mean)
    private static void SumBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradOf(r.A) is not { } dx) return;
        float g = r.Out!.Grad!.Data[0] * r.F0;
        var span = dx.Span;
        TensorPrimitives.Add(span, g, span);
    }

    /// <summary>
    /// Masked mean over the time axis: x [B, T, d], mask [B, T] (1 = real token, 0 = padding) →
    /// [B, d] = Σ_t mask·x / max(1, Σ_t mask). The value model pools the prompt's encoder states this way.
    /// The mask is data: it gets no gradient.
    /// </summary>
    public static Tensor MaskedMeanPool(Tensor x, Tensor mask)
    {
        if (x.Shape.Rank != 3) throw new ArgumentException($"MaskedMeanPool: x must be [B, T, d], got {x.Shape} {x.Name}");
        int b = x.Shape[0], t = x.Shape[1], d = x.Shape[2];
        if (mask.Shape != new Shape(b, t)) throw new ArgumentException($"MaskedMeanPool: mask {mask.Shape} does not match x {x.Shape}; expected [{b}, {t}]");
        var y = Tape.NewTensor(new Shape(b, d));
        ReductionKernels.MaskedMeanPool(x.Data, mask.Data, y.Data, b, t, d);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &MaskedMeanPoolBackward, Out = y, A = x, B = mask, I0 = b, I1 = t, I2 = d });
        return y;
    }

    // dx[b, t, :] += mask[b, t] / max(1, Σ_t mask[b, t]) · dy[b, :]   (B = mask, I0..I2 = B, T, d)
    private static void MaskedMeanPoolBackward(ref TapeRecord r, Tape tape)
    {
        if (tape.GradOf(r.A) is { } dx)
            ReductionKernels.MaskedMeanPoolBackward(r.Out!.Grad!.Data, r.B!.Data, dx.Data, r.I0, r.I1, r.I2);
    }
}
