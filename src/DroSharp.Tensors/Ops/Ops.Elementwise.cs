using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>a + b, same shape (residual connections).</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        RequireSameShape("Add", a, b);
        var y = Tape.NewTensor(a.Shape);
        ElementwiseKernels.Add(a.Data, b.Data, y.Data, y.Length);
        if (Tape.RecordingFor(a, b) is { } tape)
            tape.Record(new TapeRecord { Backward = &AddBackward, Out = y, A = a, B = b });
        return y;
    }

    // da += dy;  db += dy   (an intermediate's first gradient is stored: no clearing pass)
    private static void AddBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        if (tape.GradForWrite(r.A, out bool storeA) is { } da) ElementwiseKernels.Accumulate(dy.Data, da.Data, dy.Length, store: storeA);
        if (tape.GradForWrite(r.B, out bool storeB) is { } db) ElementwiseKernels.Accumulate(dy.Data, db.Data, dy.Length, store: storeB);
    }

    /// <summary>a − b, same shape.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        RequireSameShape("Sub", a, b);
        var y = Tape.NewTensor(a.Shape);
        ElementwiseKernels.Sub(a.Data, b.Data, y.Data, y.Length);
        if (Tape.RecordingFor(a, b) is { } tape)
            tape.Record(new TapeRecord { Backward = &SubBackward, Out = y, A = a, B = b });
        return y;
    }

    // da += dy;  db −= dy
    private static void SubBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        if (tape.GradOf(r.A) is { } da) ElementwiseKernels.Accumulate(dy.Data, da.Data, dy.Length);
        if (tape.GradOf(r.B) is { } db) ElementwiseKernels.AccumulateScaled(dy.Data, -1f, db.Data, dy.Length);
    }

    /// <summary>a ⊙ b, same shape.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        RequireSameShape("Mul", a, b);
        var y = Tape.NewTensor(a.Shape);
        ElementwiseKernels.Mul(a.Data, b.Data, y.Data, y.Length);
        if (Tape.RecordingFor(a, b) is { } tape)
            tape.Record(new TapeRecord { Backward = &MulBackward, Out = y, A = a, B = b });
        return y;
    }

    // da += dy ⊙ b;  db += dy ⊙ a
    private static void MulBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        if (tape.GradOf(r.A) is { } da) ElementwiseKernels.AccumulateProduct(dy.Data, r.B!.Data, da.Data, dy.Length);
        if (tape.GradOf(r.B) is { } db) ElementwiseKernels.AccumulateProduct(dy.Data, r.A!.Data, db.Data, dy.Length);
    }

    /// <summary>s·a.</summary>
    public static Tensor Scale(Tensor a, float s)
    {
        var y = Tape.NewTensor(a.Shape);
        ElementwiseKernels.Scale(a.Data, s, y.Data, y.Length);
        if (Tape.RecordingFor(a) is { } tape)
            tape.Record(new TapeRecord { Backward = &ScaleBackward, Out = y, A = a, F0 = s });
        return y;
    }

    // da += s·dy   (F0 = s)
    private static void ScaleBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        if (tape.GradOf(r.A) is { } da) ElementwiseKernels.AccumulateScaled(dy.Data, r.F0, da.Data, dy.Length);
    }

    /// <summary>x + bias broadcast over rows. x: [..., n], bias: [n].</summary>
    public static Tensor AddBias(Tensor x, Tensor bias)
    {
        int n = x.Shape.Last;
        if (bias.Length != n || bias.Shape.Rank != 1)
            throw new ArgumentException($"AddBias: bias {bias.Shape} {bias.Name} does not match the last axis of {x.Shape}");
        var y = Tape.NewTensor(x.Shape);
        ElementwiseKernels.AddBias(x.Data, bias.Data, y.Data, x.Shape.Rows, n);
        if (Tape.RecordingFor(x, bias) is { } tape)
            tape.Record(new TapeRecord { Backward = &AddBiasBackward, Out = y, A = x, B = bias, I0 = x.Shape.Rows, I1 = n });
        return y;
    }

    // dx += dy;  dbias += Σ_rows dy   (I0 = rows, I1 = n)
    private static void AddBiasBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        if (tape.GradOf(r.A) is { } dx) ElementwiseKernels.Accumulate(dy.Data, dx.Data, dy.Length);
        if (tape.GradOf(r.B) is { } db) ElementwiseKernels.AccumulateColumnSums(dy.Data, db.Data, r.I0, r.I1);
    }

    /// <summary>max(x, 0) (T5 v1.0 feed-forward).</summary>
    public static Tensor Relu(Tensor x)
    {
        var y = Tape.NewTensor(x.Shape);
        ActivationKernels.Relu(x.Data, y.Data, y.Length);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &ReluBackward, Out = y, A = x });
        return y;
    }

    // dx += dy ⊙ 1[y > 0]
    private static void ReluBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        if (tape.GradOf(r.A) is { } dx) ActivationKernels.ReluBackward(y.Data, y.Grad!.Data, dx.Data, y.Length);
    }

    /// <summary>gelu_new(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static Tensor GeluNew(Tensor x)
    {
        var y = Tape.NewTensor(x.Shape);
        ActivationKernels.GeluNew(x.Data, y.Data, y.Length);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &GeluNewBackward, Out = y, A = x });
        return y;
    }

    // dx += dy ⊙ gelu_new'(x)
    private static void GeluNewBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        if (tape.GradOf(r.A) is { } dx) ActivationKernels.GeluNewBackward(r.A!.Data, y.Grad!.Data, dx.Data, y.Length);
    }

    /// <summary>
    /// gelu_new(gate) ⊙ linear, fused (T5 v1.1 / Flan gated feed-forward: act(wi_0 x) ⊙ wi_1 x; Gemma's
    /// act_fn(gate_proj(x)) ⊙ up_proj(x) with gelu_pytorch_tanh, the same tanh approximation).
    /// </summary>
    public static Tensor GatedGelu(Tensor gate, Tensor linear)
    {
        RequireSameShape("GatedGelu", gate, linear);
        var y = Tape.NewTensor(gate.Shape);
        ActivationKernels.GatedGelu(gate.Data, linear.Data, y.Data, y.Length);
        if (Tape.RecordingFor(gate, linear) is { } tape)
            tape.Record(new TapeRecord { Backward = &GatedGeluBackward, Out = y, A = gate, B = linear });
        return y;
    }

    // dgate += dy ⊙ linear ⊙ gelu_new'(gate);  dlinear += dy ⊙ gelu_new(gate)   (first gradients stored)
    private static void GatedGeluBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        var dg = tape.GradForWrite(r.A, out bool storeGate);
        var dl = tape.GradForWrite(r.B, out bool storeLinear);
        ActivationKernels.GatedGeluBackward(r.A!.Data, r.B!.Data, y.Grad!.Data,
            dg is null ? null : dg.Data, dl is null ? null : dl.Data, y.Length, storeGate, storeLinear);
    }

    /// <summary>silu(x) = x·σ(x) (Hugging Face <c>silu</c>).</summary>
    public static Tensor Silu(Tensor x)
    {
        var y = Tape.NewTensor(x.Shape);
        ActivationKernels.Silu(x.Data, y.Data, y.Length);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &SiluBackward, Out = y, A = x });
        return y;
    }

    // dx += dy ⊙ silu'(x)
    private static void SiluBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        if (tape.GradOf(r.A) is { } dx) ActivationKernels.SiluBackward(r.A!.Data, y.Grad!.Data, dx.Data, y.Length);
    }

    /// <summary>
    /// silu(gate) ⊙ up, fused: the Llama-family feed-forward's down_proj(act_fn(gate_proj(x)) · up_proj(x))
    /// with act_fn = silu. (Gemma's gelu_pytorch_tanh is <see cref="GatedGelu"/>.)
    /// </summary>
    public static Tensor SiluGated(Tensor gate, Tensor up)
    {
        RequireSameShape("SiluGated", gate, up);
        var y = Tape.NewTensor(gate.Shape);
        ActivationKernels.SiluGated(gate.Data, up.Data, y.Data, y.Length);
        if (Tape.RecordingFor(gate, up) is { } tape)
            tape.Record(new TapeRecord { Backward = &SiluGatedBackward, Out = y, A = gate, B = up });
        return y;
    }

    // dgate += dy ⊙ up ⊙ silu'(gate);  dup += dy ⊙ silu(gate)   (first gradients stored)
    private static void SiluGatedBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        var dg = tape.GradForWrite(r.A, out bool storeGate);
        var du = tape.GradForWrite(r.B, out bool storeUp);
        ActivationKernels.SiluGatedBackward(r.A!.Data, r.B!.Data, y.Grad!.Data, dg is null ? null : dg.Data, du is null ? null : du.Data, y.Length,
            storeGate, storeUp);
    }

    /// <summary>cap·tanh(x/cap) elementwise (Gemma 2 final_logit_softcapping). cap &gt; 0.</summary>
    public static Tensor SoftCap(Tensor x, float cap)
    {
        if (!(cap > 0f) || !float.IsFinite(cap)) throw new ArgumentOutOfRangeException(nameof(cap), $"SoftCap: cap {cap} must be a positive number");
        var y = Tape.NewTensor(x.Shape);
        ActivationKernels.SoftCap(x.Data, cap, y.Data, y.Length);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &SoftCapBackward, Out = y, A = x, F0 = cap });
        return y;
    }

    // dx += dy ⊙ (1 − (y/cap)²)   (F0 = cap)
    private static void SoftCapBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        if (tape.GradOf(r.A) is { } dx) ActivationKernels.SoftCapBackward(y.Data, r.F0, y.Grad!.Data, dx.Data, y.Length);
    }

    /// <summary>
    /// Inverted dropout: keeps each element with probability 1−p and scales it by 1/(1−p). The mask
    /// is a pure function of (seed, index), so backward regenerates it instead of storing it.
    /// p = 0 returns x itself.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, ulong seed)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: probability {p} is not in [0, 1)");
        if (p == 0f) return x;
        var y = Tape.NewTensor(x.Shape);
        DropoutKernel.Forward(x.Data, y.Data, y.Length, p, seed);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &DropoutBackward, Out = y, A = x, F0 = p, I0 = (int)(seed & 0xFFFFFFFF), I1 = (int)(seed >> 32) });
        return y;
    }

    // dx += mask(seed) ⊙ dy / (1 − p)   (F0 = p; seed split over I0 (low), I1 (high))
    private static void DropoutBackward(ref TapeRecord r, Tape tape)
    {
        var y = r.Out!;
        ulong seed = (uint)r.I0 | ((ulong)(uint)r.I1 << 32);
        if (tape.GradOf(r.A) is { } dx) DropoutKernel.Backward(y.Grad!.Data, dx.Data, y.Length, r.F0, seed);
    }

    /// <summary>The same data seen with another shape; gradients flow back to <paramref name="x"/>.</summary>
    public static Tensor Reshape(Tensor x, Shape shape)
    {
        if (shape.Count != x.Length) throw new ArgumentException($"Reshape: cannot view {x.Shape} {x.Name} as {shape}");
        var y = Tape.NewView(x, shape);
        if (Tape.RecordingFor(x) is { } tape)
            tape.Record(new TapeRecord { Backward = &ReshapeBackward, Out = y, A = x });
        return y;
    }

    // dx += dy (same elements, other shape). The view gets its own gradient buffer because x's may
    // not exist yet, may be owned (a parameter's) or may also receive gradient from other uses of x.
    private static void ReshapeBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        if (tape.GradOf(r.A) is { } dx) ElementwiseKernels.Accumulate(dy.Data, dx.Data, dy.Length);
    }

    private static void RequireSameShape(string op, Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{op}: shapes differ: {a.Shape}{(a.Name is null ? "" : " " + a.Name)} and {b.Shape}{(b.Name is null ? "" : " " + b.Name)}");
    }
}
