using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Activations, forward and backward, on flat arrays of n elements: ReLU (T5 v1.0), gelu_new (T5
/// v1.1 / Flan, the tanh approximation; Hugging Face's gelu_pytorch_tanh of Gemma is the same
/// function), SiLU (Llama-family feed-forwards), the fused gated forms gelu_new(gate) ⊙ linear and
/// silu(gate) ⊙ up, and soft-capping c·tanh(x/c) (Gemma 2 logits). Backward functions accumulate
/// (+=) into the gradients.
/// <code>
/// gelu(x)  = ½·x·(1 + t),  t = tanh(u),  u = c·(x + a·x³),  c = √(2/π), a = 0.044715
/// gelu'(x) = ½·(1 + t) + ½·x·(1 − t²)·c·(1 + 3a·x²)
/// silu(x)  = x·σ(x),  σ(x) = 1/(1 + e^(−x));   silu'(x) = σ·(1 + x·(1 − σ))
/// softcap(x) = c·tanh(x/c);   softcap'(x) = 1 − tanh² = 1 − (y/c)²
/// </code>
/// </summary>
public static unsafe class ActivationKernels
{
    private const float C = 0.7978845608028654f; // √(2/π)
    private const float A = 0.044715f;

    /// <summary>y = max(x, 0).</summary>
    public static void Relu(float* x, float* y, int n) => Run(Kind.Relu, x, null, null, y, null, n);

    /// <summary>dx += dy·1[y &gt; 0] (from the forward output y; y &gt; 0 ⇔ x &gt; 0).</summary>
    public static void ReluBackward(float* y, float* dy, float* dx, int n) => Run(Kind.ReluBackward, y, null, dy, dx, null, n);

    /// <summary>y = gelu_new(x).</summary>
    public static void GeluNew(float* x, float* y, int n) => Run(Kind.Gelu, x, null, null, y, null, n);

    /// <summary>dx += dy·gelu_new'(x).</summary>
    public static void GeluNewBackward(float* x, float* dy, float* dx, int n) => Run(Kind.GeluBackward, x, null, dy, dx, null, n);

    /// <summary>y = gelu_new(gate) ⊙ linear.</summary>
    public static void GatedGelu(float* gate, float* linear, float* y, int n) => Run(Kind.Gated, gate, linear, null, y, null, n);

    /// <summary>
    /// dGate += dy ⊙ linear ⊙ gelu_new'(gate); dLinear += dy ⊙ gelu_new(gate). Either gradient may be null.
    /// </summary>
    public static void GatedGeluBackward(float* gate, float* linear, float* dy, float* dGate, float* dLinear, int n,
        bool overwriteGate = false, bool overwriteLinear = false)
    {
        if (dGate == null && dLinear == null) return;
        Run(Kind.GatedBackward, gate, linear, dy, dGate, dLinear, n, overwrite1: overwriteGate, overwrite2: overwriteLinear);
    }

    /// <summary>y = silu(x) = x·σ(x).</summary>
    public static void Silu(float* x, float* y, int n) => Run(Kind.Silu, x, null, null, y, null, n);

    /// <summary>dx += dy·silu'(x).</summary>
    public static void SiluBackward(float* x, float* dy, float* dx, int n) => Run(Kind.SiluBackward, x, null, dy, dx, null, n);

    /// <summary>y = silu(gate) ⊙ up.</summary>
    public static void SiluGated(float* gate, float* up, float* y, int n) => Run(Kind.SiluGated, gate, up, null, y, null, n);

    /// <summary>
    /// dGate += dy ⊙ up ⊙ silu'(gate); dUp += dy ⊙ silu(gate). Either gradient may be null. With an
    /// overwrite flag that gradient is stored instead (its buffer may hold anything; the values equal
    /// those accumulated into zeros).
    /// </summary>
    public static void SiluGatedBackward(float* gate, float* up, float* dy, float* dGate, float* dUp, int n,
        bool overwriteGate = false, bool overwriteUp = false)
    {
        if (dGate == null && dUp == null) return;
        Run(Kind.SiluGatedBackward, gate, up, dy, dGate, dUp, n, overwrite1: overwriteGate, overwrite2: overwriteUp);
    }

    /// <summary>y = cap·tanh(x/cap).</summary>
    public static void SoftCap(float* x, float cap, float* y, int n) => Run(Kind.SoftCap, x, null, null, y, null, n, cap);

    /// <summary>dx += dy·(1 − (y/cap)²), from the forward output y.</summary>
    public static void SoftCapBackward(float* y, float cap, float* dy, float* dx, int n) => Run(Kind.SoftCapBackward, y, null, dy, dx, null, n, cap);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Gelu(float x) => 0.5f * x * (1f + MathF.Tanh(C * x * (1f + A * x * x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float GeluGrad(float x)
    {
        float x2 = x * x;
        float t = MathF.Tanh(C * x * (1f + A * x2));
        return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * C * (1f + 3f * A * x2);
    }

    private enum Kind { Relu, ReluBackward, Gelu, GeluBackward, Gated, GatedBackward, Silu, SiluBackward, SiluGated, SiluGatedBackward, SoftCap, SoftCapBackward }

    private static void Run(Kind kind, float* x, float* x2, float* dy, float* out1, float* out2, int n, float scalar = 0f,
        bool overwrite1 = false, bool overwrite2 = false)
    {
        var job = new Job
        {
            Kind = kind, X = x, X2 = x2, DY = dy, Out1 = out1, Out2 = out2, S = scalar, Level = KernelDispatch.Level,
            Overwrite1 = overwrite1, Overwrite2 = overwrite2,
        };
        WorkerPool.Default.For(n, ref job, ElementwiseKernels.MinPerThread / 4);
    }

    private struct Job : IParallelJob
    {
        public Kind Kind;
        public float* X, X2, DY, Out1, Out2;
        public float S;
        public SimdLevel Level;
        public bool Overwrite1, Overwrite2;

        public readonly void Execute(int start, int end)
        {
            switch (Kind)
            {
                case Kind.Relu: ReluRange(X, Out1, start, end, Level); break;
                case Kind.ReluBackward: ReluBackwardRange(X, DY, Out1, start, end, Level); break;
                case Kind.Gelu: GeluRange(X, Out1, start, end, Level); break;
                case Kind.GeluBackward: GeluBackwardRange(X, DY, Out1, start, end, Level); break;
                case Kind.Gated: GatedRange(X, X2, Out1, start, end, Level); break;
                case Kind.GatedBackward: GatedBackwardRange(X, X2, DY, Out1, Out2, start, end, Level, Overwrite1, Overwrite2); break;
                case Kind.Silu: SiluRange(X, null, Out1, start, end, Level); break;
                case Kind.SiluBackward: SiluBackwardRange(X, null, DY, Out1, null, start, end, Level, false, false); break;
                case Kind.SiluGated: SiluRange(X, X2, Out1, start, end, Level); break;
                case Kind.SiluGatedBackward: SiluBackwardRange(X, X2, DY, Out1, Out2, start, end, Level, Overwrite1, Overwrite2); break;
                case Kind.SoftCap: SoftCapRange(X, S, Out1, start, end, Level); break;
                case Kind.SoftCapBackward: SoftCapBackwardRange(X, S, DY, Out1, start, end, Level); break;
            }
        }
    }

    private static void ReluRange(float* x, float* y, int i, int end, SimdLevel level)
    {
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16) Vector512.Max(Vector512.Load(x + i), Vector512<float>.Zero).Store(y + i);
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8) Vector256.Max(Vector256.Load(x + i), Vector256<float>.Zero).Store(y + i);
        for (; i < end; i++) y[i] = x[i] > 0f ? x[i] : 0f;
    }

    private static void ReluBackwardRange(float* y, float* dy, float* dx, int i, int end, SimdLevel level)
    {
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16)
            {
                var keep = Vector512.GreaterThan(Vector512.Load(y + i), Vector512<float>.Zero);
                (Vector512.Load(dx + i) + (Vector512.Load(dy + i) & keep)).Store(dx + i);
            }
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8)
            {
                var keep = Vector256.GreaterThan(Vector256.Load(y + i), Vector256<float>.Zero);
                (Vector256.Load(dx + i) + (Vector256.Load(dy + i) & keep)).Store(dx + i);
            }
        for (; i < end; i++) if (y[i] > 0f) dx[i] += dy[i];
    }

    // gelu and gelu' of one vector: (value, derivative).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> G, Vector512<float> D) GeluAndGrad(Vector512<float> x)
    {
        var half = Vector512.Create(0.5f);
        var x2 = x * x;
        var t = FastMath.Tanh(Vector512.Create(C) * x * Vector512.FusedMultiplyAdd(Vector512.Create(A), x2, Vector512<float>.One));
        var onePlusT = Vector512<float>.One + t;
        var g = half * x * onePlusT;
        var du = Vector512.Create(C) * Vector512.FusedMultiplyAdd(Vector512.Create(3f * A), x2, Vector512<float>.One);
        var d = half * onePlusT + half * x * (Vector512<float>.One - t * t) * du;
        return (g, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> G, Vector256<float> D) GeluAndGrad(Vector256<float> x)
    {
        var half = Vector256.Create(0.5f);
        var x2 = x * x;
        var t = FastMath.Tanh(Vector256.Create(C) * x * Vector256.FusedMultiplyAdd(Vector256.Create(A), x2, Vector256<float>.One));
        var onePlusT = Vector256<float>.One + t;
        var g = half * x * onePlusT;
        var du = Vector256.Create(C) * Vector256.FusedMultiplyAdd(Vector256.Create(3f * A), x2, Vector256<float>.One);
        var d = half * onePlusT + half * x * (Vector256<float>.One - t * t) * du;
        return (g, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GeluV(Vector512<float> x)
    {
        var t = FastMath.Tanh(Vector512.Create(C) * x * Vector512.FusedMultiplyAdd(Vector512.Create(A), x * x, Vector512<float>.One));
        return Vector512.Create(0.5f) * x * (Vector512<float>.One + t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GeluV(Vector256<float> x)
    {
        var t = FastMath.Tanh(Vector256.Create(C) * x * Vector256.FusedMultiplyAdd(Vector256.Create(A), x * x, Vector256<float>.One));
        return Vector256.Create(0.5f) * x * (Vector256<float>.One + t);
    }

    private static void GeluRange(float* x, float* y, int i, int end, SimdLevel level)
    {
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16) GeluV(Vector512.Load(x + i)).Store(y + i);
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8) GeluV(Vector256.Load(x + i)).Store(y + i);
        for (; i < end; i++) y[i] = Gelu(x[i]);
    }

    private static void GeluBackwardRange(float* x, float* dy, float* dx, int i, int end, SimdLevel level)
    {
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16)
                Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), GeluAndGrad(Vector512.Load(x + i)).D, Vector512.Load(dx + i)).Store(dx + i);
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.Load(dy + i), GeluAndGrad(Vector256.Load(x + i)).D, Vector256.Load(dx + i)).Store(dx + i);
        for (; i < end; i++) dx[i] += dy[i] * GeluGrad(x[i]);
    }

    private static void GatedRange(float* gate, float* linear, float* y, int i, int end, SimdLevel level)
    {
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16) (GeluV(Vector512.Load(gate + i)) * Vector512.Load(linear + i)).Store(y + i);
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8) (GeluV(Vector256.Load(gate + i)) * Vector256.Load(linear + i)).Store(y + i);
        for (; i < end; i++) y[i] = Gelu(gate[i]) * linear[i];
    }

    // (+ or, overwriting, into zero) dGate = dy ⊙ linear ⊙ gelu_new'(gate); dLinear = dy ⊙ gelu_new(gate)
    private static void GatedBackwardRange(float* gate, float* linear, float* dy, float* dGate, float* dLinear, int i, int end, SimdLevel level,
        bool overwriteGate, bool overwriteLinear)
    {
        bool wantGate = dGate != null, wantLinear = dLinear != null;
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16)
            {
                var (g, d) = GeluAndGrad(Vector512.Load(gate + i));
                var gy = Vector512.Load(dy + i);
                if (wantGate) Vector512.FusedMultiplyAdd(gy * Vector512.Load(linear + i), d, overwriteGate ? Vector512<float>.Zero : Vector512.Load(dGate + i)).Store(dGate + i);
                if (wantLinear) Vector512.FusedMultiplyAdd(gy, g, overwriteLinear ? Vector512<float>.Zero : Vector512.Load(dLinear + i)).Store(dLinear + i);
            }
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8)
            {
                var (g, d) = GeluAndGrad(Vector256.Load(gate + i));
                var gy = Vector256.Load(dy + i);
                if (wantGate) Vector256.FusedMultiplyAdd(gy * Vector256.Load(linear + i), d, overwriteGate ? Vector256<float>.Zero : Vector256.Load(dGate + i)).Store(dGate + i);
                if (wantLinear) Vector256.FusedMultiplyAdd(gy, g, overwriteLinear ? Vector256<float>.Zero : Vector256.Load(dLinear + i)).Store(dLinear + i);
            }
        for (; i < end; i++)
        {
            if (wantGate) dGate[i] = (overwriteGate ? 0f : dGate[i]) + dy[i] * linear[i] * GeluGrad(gate[i]);
            if (wantLinear) dLinear[i] = (overwriteLinear ? 0f : dLinear[i]) + dy[i] * Gelu(gate[i]);
        }
    }

    // σ(x) = 1/(1 + e^(−x)) (exp clamps at 88, so σ → 0 without overflow for x → −∞)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + FastMath.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + FastMath.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    // y = silu(x), or silu(x) ⊙ up when up is not null
    private static void SiluRange(float* x, float* up, float* y, int i, int end, SimdLevel level)
    {
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16)
            {
                var v = Vector512.Load(x + i);
                var r = v * Sigmoid(v);
                if (up != null) r *= Vector512.Load(up + i);
                r.Store(y + i);
            }
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8)
            {
                var v = Vector256.Load(x + i);
                var r = v * Sigmoid(v);
                if (up != null) r *= Vector256.Load(up + i);
                r.Store(y + i);
            }
        for (; i < end; i++)
        {
            float r = x[i] * Sigmoid(x[i]);
            y[i] = up != null ? r * up[i] : r;
        }
    }

    // dx += dy ⊙ silu'(x) (⊙ up when gated); dUp += dy ⊙ silu(x). dx or dUp may be null; an overwritten
    // one is computed as if accumulated into zeros.
    private static void SiluBackwardRange(float* x, float* up, float* dy, float* dx, float* dUp, int i, int end, SimdLevel level,
        bool overwriteX, bool overwriteUp)
    {
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16)
            {
                var v = Vector512.Load(x + i);
                var sg = Sigmoid(v);
                var g = Vector512.Load(dy + i);
                if (dx != null)
                {
                    var d = sg * Vector512.FusedMultiplyAdd(v, Vector512<float>.One - sg, Vector512<float>.One);
                    var gg = up != null ? g * Vector512.Load(up + i) : g;
                    Vector512.FusedMultiplyAdd(gg, d, overwriteX ? Vector512<float>.Zero : Vector512.Load(dx + i)).Store(dx + i);
                }
                if (dUp != null) Vector512.FusedMultiplyAdd(g, v * sg, overwriteUp ? Vector512<float>.Zero : Vector512.Load(dUp + i)).Store(dUp + i);
            }
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8)
            {
                var v = Vector256.Load(x + i);
                var sg = Sigmoid(v);
                var g = Vector256.Load(dy + i);
                if (dx != null)
                {
                    var d = sg * Vector256.FusedMultiplyAdd(v, Vector256<float>.One - sg, Vector256<float>.One);
                    var gg = up != null ? g * Vector256.Load(up + i) : g;
                    Vector256.FusedMultiplyAdd(gg, d, overwriteX ? Vector256<float>.Zero : Vector256.Load(dx + i)).Store(dx + i);
                }
                if (dUp != null) Vector256.FusedMultiplyAdd(g, v * sg, overwriteUp ? Vector256<float>.Zero : Vector256.Load(dUp + i)).Store(dUp + i);
            }
        for (; i < end; i++)
        {
            float v = x[i], sg = Sigmoid(v);
            if (dx != null) dx[i] = (overwriteX ? 0f : dx[i]) + dy[i] * (up != null ? up[i] : 1f) * sg * (1f + v * (1f - sg));
            if (dUp != null) dUp[i] = (overwriteUp ? 0f : dUp[i]) + dy[i] * v * sg;
        }
    }

    private static void SoftCapRange(float* x, float cap, float* y, int i, int end, SimdLevel level)
    {
        float inv = 1f / cap;
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16)
                (Vector512.Create(cap) * FastMath.TanhAccurate(Vector512.Load(x + i) * Vector512.Create(inv))).Store(y + i);
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8)
                (Vector256.Create(cap) * FastMath.TanhAccurate(Vector256.Load(x + i) * Vector256.Create(inv))).Store(y + i);
        for (; i < end; i++) y[i] = cap * MathF.Tanh(x[i] * inv);
    }

    private static void SoftCapBackwardRange(float* y, float cap, float* dy, float* dx, int i, int end, SimdLevel level)
    {
        float inv = 1f / cap;
        if (level == SimdLevel.Vector512)
            for (; i + 16 <= end; i += 16)
            {
                var t = Vector512.Load(y + i) * Vector512.Create(inv);
                Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), Vector512.FusedMultiplyAdd(-t, t, Vector512<float>.One), Vector512.Load(dx + i)).Store(dx + i);
            }
        else if (level == SimdLevel.Vector256)
            for (; i + 8 <= end; i += 8)
            {
                var t = Vector256.Load(y + i) * Vector256.Create(inv);
                Vector256.FusedMultiplyAdd(Vector256.Load(dy + i), Vector256.FusedMultiplyAdd(-t, t, Vector256<float>.One), Vector256.Load(dx + i)).Store(dx + i);
            }
        for (; i < end; i++)
        {
            float t = y[i] * inv;
            dx[i] += dy[i] * (1f - t * t);
        }
    }
}
