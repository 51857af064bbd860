using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>
    /// A LoRA-adapted linear map without bias: y = x·Wᵀ + s·(drop(x)·Aᵀ)·Bᵀ.
    /// x: [..., in], W: [out, in], A: [r, in], B: [out, r] → y: [..., out]. drop is inverted dropout
    /// with probability <paramref name="dropout"/> and the counter-based mask of <paramref name="seed"/>
    /// (<see cref="DropoutKernel"/>); it is recomputed in backward, not stored. Saved for backward: the
    /// scaled low-rank activation u = s·drop(x)·Aᵀ [rows, r]. W gets a gradient when it requires one.
    /// </summary>
    public static Tensor LoraLinear(Tensor x, Tensor weight, Tensor loraA, Tensor loraB, float scale, float dropout, ulong seed) =>
        LoraLinear(x, weight, null, loraA, loraB, scale, dropout, seed);

    /// <summary>
    /// <see cref="LoraLinear(Tensor, Tensor, Tensor, Tensor, float, float, ulong)"/> with a frozen base
    /// weight stored in bfloat16 (widened inside the GEMM's packing; no weight gradient).
    /// </summary>
    public static Tensor LoraLinear(Tensor x, BFloat16Matrix weight, Tensor loraA, Tensor loraB, float scale, float dropout, ulong seed) =>
        LoraLinear(x, null, weight, loraA, loraB, scale, dropout, seed);

    private static Tensor LoraLinear(Tensor x, Tensor? w32, BFloat16Matrix? w16, Tensor loraA, Tensor loraB, float scale, float dropout, ulong seed)
    {
        int outF = w32?.Shape[0] ?? w16!.Rows, inF = w32?.Shape[1] ?? w16!.Cols;
        string name = (w32 is not null ? w32.Name : w16!.Name) ?? "";
        if (x.Shape.Last != inF) throw new ArgumentException($"LoraLinear: input {x.Shape} does not end in {inF} (weight [{outF}, {inF}] {name})");
        if (loraA.Shape.Rank != 2 || loraA.Shape[1] != inF)
            throw new ArgumentException($"LoraLinear: lora_A {loraA.Shape} {loraA.Name} must be [r, {inF}] for weight {name}");
        int r = loraA.Shape[0];
        if (loraB.Shape.Rank != 2 || loraB.Shape[0] != outF || loraB.Shape[1] != r)
            throw new ArgumentException($"LoraLinear: lora_B {loraB.Shape} {loraB.Name} must be [{outF}, {r}] for weight {name} and lora_A {loraA.Shape}");
        if (!(dropout >= 0f && dropout < 1f)) throw new ArgumentOutOfRangeException(nameof(dropout), $"LoraLinear: dropout {dropout} is not in [0, 1)");
        int rows = x.Shape.Rows;
        var y = Tape.NewTensor(WithLast(x.Shape, outF));
        if (w32 is not null) Gemm.Compute(GemmLayout.NT, rows, outF, inF, x.Data, inF, w32.Data, inF, y.Data, outF, accumulate: false);
        else Gemm.ComputeBFloat16B(GemmLayout.NT, rows, outF, inF, x.Data, inF, w16!.Data, inF, y.Data, outF, accumulate: false);

        // u = s·drop(x)·Aᵀ [rows, r];  y += u·Bᵀ
        var u = Tape.NewTensor(new Shape(rows, r));
        float* xd = x.Data;
        if (dropout > 0f)
        {
            xd = ScratchBuffer.Get((long)rows * inF);
            DropoutKernel.Forward(x.Data, xd, rows * inF, dropout, seed);
        }
        Gemm.Compute(GemmLayout.NT, rows, r, inF, xd, inF, loraA.Data, inF, u.Data, r, accumulate: false);
        ElementwiseKernels.Scale(u.Data, scale, u.Data, u.Length);
        Gemm.Compute(GemmLayout.NT, rows, outF, r, u.Data, r, loraB.Data, r, y.Data, outF, accumulate: true);

        if (Tape.RecordingFor(x, w32, loraA, loraB) is { } tape)
            tape.Record(new TapeRecord
            {
                Backward = &LoraLinearBackward, Out = y, A = x, B = w32, C = loraA, D = loraB, S0 = u, Extra = w16,
                F0 = scale, F1 = dropout, I0 = rows, I1 = inF, I2 = outF, I3 = r, I4 = (int)(seed & 0xFFFFFFFF), I5 = (int)(seed >> 32),
            });
        else if (u.OwnsMemory) u.Dispose(); // no tape: a temporary
        return y;
    }

    // dx  = dy·W + drop'(s·(dy·B)·A)        dW += dyᵀ·x
    // dB += dyᵀ·u                           dA += (s·dy·B)ᵀ·drop(x)
    // (Out = y, A = x, B = W or null, C = lora_A, D = lora_B, S0 = u, Extra = bfloat16 W,
    //  F0 = s, F1 = p, I0 = rows, I1 = in, I2 = out, I3 = r, I4/I5 = seed low/high)
    private static void LoraLinearBackward(ref TapeRecord r, Tape tape)
    {
        var dy = r.Out!.Grad!;
        var x = r.A!;
        int rows = r.I0, inF = r.I1, outF = r.I2, rank = r.I3;
        float scale = r.F0, p = r.F1;
        ulong seed = (uint)r.I4 | ((ulong)(uint)r.I5 << 32);

        var dx = tape.GradForWrite(x, out bool overwrite);
        if (dx is not null)
        {
            if (r.B is { } w) Gemm.Compute(GemmLayout.NN, rows, inF, outF, dy.Data, outF, w.Data, inF, dx.Data, inF, accumulate: !overwrite);
            else Gemm.ComputeBFloat16B(GemmLayout.NN, rows, inF, outF, dy.Data, outF, ((BFloat16Matrix)r.Extra!).Data, inF, dx.Data, inF, accumulate: !overwrite);
        }
        if (tape.GradOf(r.B) is { } dw)
            Gemm.Compute(GemmLayout.TN, outF, inF, rows, dy.Data, outF, x.Data, inF, dw.Data, inF, accumulate: true);

        var a = r.C!;
        var b = r.D!;
        var u = r.S0!;
        if (tape.GradOf(b) is { } db)
            Gemm.Compute(GemmLayout.TN, outF, rank, rows, dy.Data, outF, u.Data, rank, db.Data, rank, accumulate: true);
        var da = tape.GradOf(a);
        if (da is null && dx is null) return;

        // du = s·dy·B [rows, r]
        var du = tape.Arena.Uninitialized(new Shape(rows, rank));
        Gemm.Compute(GemmLayout.NN, rows, rank, outF, dy.Data, outF, b.Data, rank, du.Data, rank, accumulate: false);
        ElementwiseKernels.Scale(du.Data, scale, du.Data, du.Length);
        if (da is not null)
        {
            float* xd = x.Data;
            if (p > 0f)
            {
                xd = ScratchBuffer.Get((long)rows * inF);
                DropoutKernel.Forward(x.Data, xd, rows * inF, p, seed);
            }
            Gemm.Compute(GemmLayout.TN, rank, inF, rows, du.Data, rank, xd, inF, da.Data, inF, accumulate: true);
        }
        if (dx is not null)
        {
            if (p == 0f) Gemm.Compute(GemmLayout.NN, rows, inF, rank, du.Data, rank, a.Data, inF, dx.Data, inF, accumulate: true);
            else
            {
                float* dxd = ScratchBuffer.Get((long)rows * inF);
                Gemm.Compute(GemmLayout.NN, rows, inF, rank, du.Data, rank, a.Data, inF, dxd, inF, accumulate: false);
                DropoutKernel.Backward(dxd, dx.Data, rows * inF, p, seed);
            }
        }
    }
}
