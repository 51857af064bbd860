using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// T5's layer norm over the last axis, no mean subtraction and no bias:
    /// y = weight ⊙ x / √(mean(x²) + eps). x: [..., d], weight: [d].
    /// </summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, float eps) => RmsNorm(x, weight, eps, weightPlusOne: false);

    /// <summary>
    /// RMS norm over the last axis: y = x / √(mean(x²) + eps) ⊙ w′ with w′ = weight (Llama, Qwen, Phi,
    /// T5) or, with <paramref name="weightPlusOne"/>, w′ = 1 + weight (Gemma, whose weights start at 0).
    /// x: [..., d], weight: [d]; per-head norms (Qwen3/Gemma 3 qk-norm) reshape x to [rows·heads, head_dim].
    /// </summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, float eps, bool weightPlusOne)
    {
        int d = x.Shape.Last, rows = x.Shape.Rows;
        if (weight.Length != d || weight.Shape.Rank != 1)
            throw new ArgumentException($"RmsNorm: weight {weight.Shape} {weight.Name} does not match the last axis of {x.Shape}");
        var y = Tape.NewTensor(x.Shape);
        var tape = Tape.RecordingFor(x, weight);
        // rstd: [rows], saved for backward only.
        var rstd = tape is null ? null : Tape.NewTensor(new Shape(rows));
        float offset = weightPlusOne ? 1f : 0f;
        RmsNormKernel.Forward(x.Data, weight.Data, offset, y.Data, rstd is null ? null : rstd.Data, rows, d, eps);
        tape?.Record(new TapeRecord { Backward = &RmsNormBackward, Out = y, A = x, B = weight, S0 = rstd, I0 = rows, I1 = d, F0 = offset });
        return y;
    }

    // dx += r·(w′⊙dy) − x·r³·(Σ w′⊙dy⊙x)/d;  dw += Σ_rows dy⊙x·r   (w′ = w + F0; S0 = rstd [rows], I0 = rows, I1 = d)
    private static void RmsNormBackward(ref TapeRecord r, Tape tape)
    {
        var dx = tape.GradOf(r.A);
        var dw = tape.GradOf(r.B);
        RmsNormKernel.Backward(r.A!.Data, r.B!.Data, r.F0, r.S0!.Data, r.Out!.Grad!.Data,
            dx is null ? null : dx.Data, dw is null ? null : dw.Data, r.I0, r.I1);
    }

    /// <summary>Softmax over the last axis (forward only is enough for sampling; records for autograd too).</summary>
    public static Tensor Softmax(Tensor x)
    {
        var y = Tape.NewTensor(x.Shape);
        SoftmaxKernel.Forward(x.Data, y.Data, x.Shape.Rows, x.Shape.Last);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &SoftmaxBackward, Out = y, A = x, I0 = x.Shape.Rows, I1 = x.Shape.Last });
        return y;
    }

    // dx += y ⊙ (dy − Σ dy⊙y) per row   (I0 = rows, I1 = n)
    private static void SoftmaxBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        if (tape.GradOf(r.A) is { } dx) SoftmaxKernel.Backward(y.Data, y.Grad!.Data, dx.Data, r.I0, r.I1);
    }

    /// <summary>Log-softmax over the last axis.</summary>
    public static Tensor LogSoftmax(Tensor x)
    {
        var y = Tape.NewTensor(x.Shape);
        SoftmaxKernel.LogForward(x.Data, y.Data, x.Shape.Rows, x.Shape.Last);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &LogSoftmaxBackward, Out = y, A = x, I0 = x.Shape.Rows, I1 = x.Shape.Last });
        return y;
    }

    // dx += dy − exp(y)·Σ dy per row   (I0 = rows, I1 = n)
    private static void LogSoftmaxBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        if (tape.GradOf(r.A) is { } dx) SoftmaxKernel.LogBackward(y.Data, y.Grad!.Data, dx.Data, r.I0, r.I1);
    }
}
