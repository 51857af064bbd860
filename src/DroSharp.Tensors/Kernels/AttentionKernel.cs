using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Fused T5 multi-head attention, one task per (batch, head), parallel over B·H.
/// Heads are interleaved in the last axis: head h of q[b, i, :] is q[b, i, h·dk … h·dk + dk).
/// <code>
/// forward (per b, h):  S = Q·Kᵀ                        [Tq, Tk]   (no 1/√dk: T5 folds it into the init)
///                      S += bias[h]                     position bias [H, Tq, Tk], shared by the batch
///                      S[i, j] = −∞ if mask[b, j] = 0, or (causal) j &gt; i + Tk − Tq
///                      P = softmax_rows(S)              [Tq, Tk]   (an all-masked row gives P = 0)
///                      O = P·V                          [Tq, dk]
/// backward:            dV += Pᵀ·dO;  dP = dO·Vᵀ;  dS = P ⊙ (dP − rowsum(P ⊙ dP))
///                      dQ += dS·K;   dK += dSᵀ·Q;   dBias[h] += Σ_b dS   (reduced over b in order)
/// </code>
/// Work that cannot matter is skipped: queries go in blocks of <see cref="QueryBlock"/> rows and
/// each block's products only span the keys it can see — below the causal diagonal and before the
/// batch row's last unmasked key (right padding). P and dS are zero beyond.
/// The forward keeps P ([B, H, Tq, Tk], in the caller's buffer) for the backward instead of
/// recomputing it: backward then needs four GEMMs instead of five plus a softmax, and P costs
/// B·H·Tq·Tk floats per attention call, comparable to the other activations of a layer for the
/// sequence lengths DRO trains on.
/// </summary>
public static unsafe class AttentionKernel
{
    /// <summary>Query rows per block when causal masking lets blocks skip keys.</summary>
    internal const int QueryBlock = 64;

    /// <summary>1 + the last key of a batch row that is not padding (0 if all are), or tk without a mask.</summary>
    private static int KeyEnd(float* mask, int tk)
    {
        if (mask == null) return tk;
        int end = tk;
        while (end > 0 && mask[end - 1] == 0f) end--;
        return end;
    }

    /// <summary>(batch, head) tasks per thread below which waking the pool costs more than it saves (decoding steps).</summary>
    private static int MinHeadsPerThread(int tq, int tk, int dk) =>
        (int)Math.Clamp(16384 / Math.Max(1L, (long)tq * tk * Math.Max(1, dk)), 1, int.MaxValue);

    /// <summary>The keys query rows [i0, i1) can see at all: [0, limit).</summary>
    private static int BlockKeyLimit(int i1, int tq, int tk, int keyEnd, bool causal) =>
        Math.Min(keyEnd, causal ? Math.Clamp(i1 - 1 + tk - tq + 1, 0, tk) : tk);

    /// <summary>
    /// Forward with contiguous operands: q, output [B, Tq, H·dk]; k, v [B, Tk, H·dk];
    /// positionBias [H, Tq, Tk] or null; keyMask [B, Tk] (1 = attend, 0 = padding) or null;
    /// probs [B, H, Tq, Tk] receives P.
    /// </summary>
    public static void Forward(float* q, float* k, float* v, float* positionBias, float* keyMask, float* output, float* probs,
        int batch, int heads, int tq, int tk, int headDim, bool causal)
        => Forward(q, k, v, positionBias, keyMask, output, probs, batch, heads, tq, tk, headDim, causal,
            kvBatchStride: (long)tk * heads * headDim, keyMaskBatchStride: tk);

    /// <summary>
    /// Forward where k and v of batch b start at b·<paramref name="kvBatchStride"/> and the key mask
    /// row of batch b at b·<paramref name="keyMaskBatchStride"/>: a KV cache [B, Tmax, H·dk] filled up
    /// to Tk is used in place. With <paramref name="causal"/>, query i sees keys j ≤ i + Tk − Tq.
    /// </summary>
    public static void Forward(float* q, float* k, float* v, float* positionBias, float* keyMask, float* output, float* probs,
        int batch, int heads, int tq, int tk, int headDim, bool causal, long kvBatchStride, int keyMaskBatchStride)
    {
        var job = new ForwardJob
        {
            Q = q, K = k, V = v, Bias = positionBias, Mask = keyMask, O = output, P = probs,
            Heads = heads, Tq = tq, Tk = tk, Dk = headDim, Causal = causal,
            KvStride = kvBatchStride, MaskStride = keyMaskBatchStride,
        };
        WorkerPool.Default.For(batch * heads, ref job, MinHeadsPerThread(tq, tk, headDim));
    }

    /// <summary>
    /// Backward with contiguous operands (as the first <see cref="Forward(float*, float*, float*, float*, float*, float*, float*, int, int, int, int, int, bool)"/>):
    /// accumulates into dq, dk, dv ([B, T, H·dk]) and dBias ([H, Tq, Tk]); any of them may be null.
    /// <paramref name="scratch"/> [B, H, Tq, Tk] holds dS (needed unless only dv is wanted).
    /// </summary>
    public static void Backward(float* q, float* k, float* v, float* probs, float* dOut,
        float* dq, float* dk, float* dv, float* dBias, float* scratch,
        int batch, int heads, int tq, int tk, int headDim)
        => Backward(q, k, v, probs, dOut, dq, dk, dv, dBias, scratch, null, false, batch, heads, tq, tk, headDim);

    /// <summary>
    /// Backward given the forward's <paramref name="keyMask"/> and <paramref name="causal"/> too, so
    /// the products skip the keys the forward skipped (the result is the same; only faster).
    /// </summary>
    public static void Backward(float* q, float* k, float* v, float* probs, float* dOut,
        float* dq, float* dk, float* dv, float* dBias, float* scratch, float* keyMask, bool causal,
        int batch, int heads, int tq, int tk, int headDim)
    {
        bool needDs = dq != null || dk != null || dBias != null;
        if (needDs && scratch == null) throw new ArgumentNullException(nameof(scratch), "attention backward needs a [B, H, Tq, Tk] scratch buffer");
        var job = new BackwardJob
        {
            Q = q, K = k, V = v, P = probs, DO = dOut, DQ = dq, DK = dk, DV = dv, DS = needDs ? scratch : null,
            Mask = keyMask, Causal = causal, ClearDs = dBias != null,
            Heads = heads, Tq = tq, Tk = tk, Dk = headDim,
        };
        WorkerPool.Default.For(batch * heads, ref job, MinHeadsPerThread(tq, tk, headDim));
        if (dBias != null)
        {
            // dBias[h, i, :] += Σ_b dS[b, h, i, :] in batch order: parallel over (h, i) rows, deterministic.
            var reduce = new BiasReduceJob { DS = scratch, DBias = dBias, Batch = batch, Heads = heads, Tq = tq, Tk = tk };
            WorkerPool.Default.For(heads * tq, ref reduce, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, batch * tk)));
        }
    }

    private struct ForwardJob : IParallelJob
    {
        public float* Q, K, V, Bias, Mask, O, P;
        public int Heads, Tq, Tk, Dk, MaskStride;
        public long KvStride;
        public bool Causal;

        public readonly void Execute(int start, int end)
        {
            int tq = Tq, tk = Tk, dk = Dk, hd = Heads * Dk;
            var level = KernelDispatch.Level;
            int block = Causal ? QueryBlock : Math.Max(1, tq);
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / Heads, h = bh % Heads;
                float* qh = Q + (long)b * tq * hd + h * dk;
                float* kh = K + b * KvStride + h * dk;
                float* vh = V + b * KvStride + h * dk;
                float* oh = O + (long)b * tq * hd + h * dk;
                float* p = P + (long)bh * tq * tk;
                float* mask = Mask == null ? null : Mask + (long)b * MaskStride;
                float* bias = Bias == null ? null : Bias + (long)h * tq * tk;
                int keyEnd = KeyEnd(mask, tk);

                for (int i0 = 0; i0 < tq; i0 += block)
                {
                    int i1 = Math.Min(tq, i0 + block), rows = i1 - i0;
                    int kLimit = BlockKeyLimit(i1, tq, tk, keyEnd, Causal);
                    float* pb = p + (long)i0 * tk;

                    // S[i0:i1, 0:kLimit] = Q[i0:i1]·K[0:kLimit]ᵀ
                    Gemm.Compute(GemmLayout.NT, rows, kLimit, dk, qh + (long)i0 * hd, hd, kh, hd, pb, tk, accumulate: false);
                    for (int i = i0; i < i1; i++)
                    {
                        float* row = p + (long)i * tk;
                        int limit = Causal ? Math.Min(kLimit, Math.Clamp(i + tk - tq + 1, 0, tk)) : kLimit;
                        ScoresToProbabilities(row, bias == null ? null : bias + (long)i * tk, mask, limit, level);
                        if (limit < tk) new Span<float>(row + limit, tk - limit).Clear();
                    }
                    // O[i0:i1] = P[i0:i1, 0:kLimit]·V[0:kLimit]   (k = 0 clears O's rows)
                    Gemm.Compute(GemmLayout.NN, rows, dk, kLimit, pb, tk, vh, hd, oh + (long)i0 * hd, hd, accumulate: false);
                }
            }
        }
    }

    /// <summary>
    /// One score row to probabilities in three passes over L1-resident data: s += bias, s = −∞ where
    /// mask = 0, and the running max (fused); then exp(s − max) and its sum; then the 1/sum scale.
    /// A row with no visible key becomes zeros.
    /// </summary>
    private static void ScoresToProbabilities(float* s, float* bias, float* mask, int n, SimdLevel level)
    {
        if (n <= 0) return;
        float max = float.NegativeInfinity;
        int j = 0;
        if (level == SimdLevel.Vector512)
        {
            var ninf = Vector512.Create(float.NegativeInfinity);
            var vmax = ninf;
            for (; j + 16 <= n; j += 16)
            {
                var x = Vector512.Load(s + j);
                if (bias != null) x += Vector512.Load(bias + j);
                if (mask != null) x = Vector512.ConditionalSelect(Vector512.Equals(Vector512.Load(mask + j), Vector512<float>.Zero), ninf, x);
                x.Store(s + j);
                vmax = Vector512.Max(vmax, x);
            }
            max = HorizontalMax(vmax);
        }
        else if (level == SimdLevel.Vector256)
        {
            var ninf = Vector256.Create(float.NegativeInfinity);
            var vmax = ninf;
            for (; j + 8 <= n; j += 8)
            {
                var x = Vector256.Load(s + j);
                if (bias != null) x += Vector256.Load(bias + j);
                if (mask != null) x = Vector256.ConditionalSelect(Vector256.Equals(Vector256.Load(mask + j), Vector256<float>.Zero), ninf, x);
                x.Store(s + j);
                vmax = Vector256.Max(vmax, x);
            }
            for (int l = 0; l < 8; l++) max = MathF.Max(max, vmax.GetElement(l));
        }
        for (; j < n; j++)
        {
            float x = s[j];
            if (bias != null) x += bias[j];
            if (mask != null && mask[j] == 0f) x = float.NegativeInfinity;
            s[j] = x;
            max = MathF.Max(max, x);
        }
        if (float.IsNegativeInfinity(max))
        {
            new Span<float>(s, n).Clear();
            return;
        }
        float sum = SoftmaxKernel.ExpSum(s, s, n, max, level);
        TensorPrimitives.Multiply(new ReadOnlySpan<float>(s, n), 1f / sum, new Span<float>(s, n));
    }

    private static float HorizontalMax(Vector512<float> v)
    {
        var m = Vector256.Max(v.GetLower(), v.GetUpper());
        float r = float.NegativeInfinity;
        for (int l = 0; l < 8; l++) r = MathF.Max(r, m.GetElement(l));
        return r;
    }

    /// <summary>ds = p ⊙ (ds − Σⱼ pⱼ·dsⱼ) over n elements: the softmax backward of one row, in place.</summary>
    private static void SoftmaxBackwardRow(float* p, float* ds, int n, SimdLevel level)
    {
        float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(p, n), new ReadOnlySpan<float>(ds, n));
        int j = 0;
        if (level == SimdLevel.Vector512)
        {
            var d = Vector512.Create(dot);
            for (; j + 16 <= n; j += 16) ((Vector512.Load(ds + j) - d) * Vector512.Load(p + j)).Store(ds + j);
        }
        else if (level == SimdLevel.Vector256)
        {
            var d = Vector256.Create(dot);
            for (; j + 8 <= n; j += 8) ((Vector256.Load(ds + j) - d) * Vector256.Load(p + j)).Store(ds + j);
        }
        for (; j < n; j++) ds[j] = (ds[j] - dot) * p[j];
    }

    private struct BackwardJob : IParallelJob
    {
        public float* Q, K, V, P, DO, DQ, DK, DV, DS, Mask;
        public int Heads, Tq, Tk, Dk;
        public bool Causal, ClearDs;

        public readonly void Execute(int start, int end)
        {
            int tq = Tq, tk = Tk, dk = Dk, hd = Heads * Dk;
            var level = KernelDispatch.Level;
            int block = Causal ? QueryBlock : Math.Max(1, tq);
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / Heads, h = bh % Heads;
                long qOff = (long)b * tq * hd + h * dk, kOff = (long)b * tk * hd + h * dk;
                float* p = P + (long)bh * tq * tk;
                float* ds = DS == null ? null : DS + (long)bh * tq * tk;
                int keyEnd = KeyEnd(Mask == null ? null : Mask + (long)b * tk, tk);

                for (int i0 = 0; i0 < tq; i0 += block)
                {
                    int i1 = Math.Min(tq, i0 + block), rows = i1 - i0;
                    int kLimit = BlockKeyLimit(i1, tq, tk, keyEnd, Causal);
                    float* pb = p + (long)i0 * tk;
                    float* dO = DO + qOff + (long)i0 * hd;

                    // dV[0:kLimit] += P[i0:i1, 0:kLimit]ᵀ·dO[i0:i1]
                    if (DV != null && kLimit > 0)
                        Gemm.Compute(GemmLayout.TN, kLimit, dk, rows, pb, tk, dO, hd, DV + kOff, hd, accumulate: true);
                    if (ds == null) continue;

                    // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP)) in place, on [i0:i1, 0:kLimit].
                    float* dsb = ds + (long)i0 * tk;
                    Gemm.Compute(GemmLayout.NT, rows, kLimit, dk, dO, hd, V + kOff, hd, dsb, tk, accumulate: false);
                    for (int i = 0; i < rows; i++)
                    {
                        SoftmaxBackwardRow(pb + (long)i * tk, dsb + (long)i * tk, kLimit, level);
                        if (ClearDs && kLimit < tk) new Span<float>(dsb + (long)i * tk + kLimit, tk - kLimit).Clear();
                    }
                    if (kLimit == 0) continue;

                    // dQ[i0:i1] += dS·K[0:kLimit];  dK[0:kLimit] += dSᵀ·Q[i0:i1]
                    if (DQ != null) Gemm.Compute(GemmLayout.NN, rows, dk, kLimit, dsb, tk, K + kOff, hd, DQ + qOff + (long)i0 * hd, hd, accumulate: true);
                    if (DK != null) Gemm.Compute(GemmLayout.TN, kLimit, dk, rows, dsb, tk, Q + qOff + (long)i0 * hd, hd, DK + kOff, hd, accumulate: true);
                }
            }
        }
    }

    private struct BiasReduceJob : IParallelJob
    {
        public float* DS, DBias;
        public int Batch, Heads, Tq, Tk;

        public readonly void Execute(int start, int end)
        {
            int tq = Tq, tk = Tk;
            for (int hi = start; hi < end; hi++)
            {
                int h = hi / tq, i = hi % tq;
                var acc = new Span<float>(DBias + (long)hi * tk, tk);
                for (int b = 0; b < Batch; b++)
                {
                    float* src = DS + ((long)(b * Heads + h) * tq + i) * tk;
                    TensorPrimitives.Add(acc, new ReadOnlySpan<float>(src, tk), acc);
                }
            }
        }
    }
}
