using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Causal self-attention of decoder-only models (Llama, Mistral, Qwen, Phi-3, Gemma), blockwise in
/// the manner of flash attention: the probabilities are never stored, only each row's log-sum-exp.
/// Heads are interleaved in the last axis: q [B, T, Hq·D], k and v [B, T, Hkv·D]; query head h reads
/// key/value head h / (Hq/Hkv) (grouped-query attention, nothing repeated in memory).
/// <code>
/// s[i, j] = scale·q_i·k_j                                   (Hugging Face: matmul(q, kᵀ)·scaling)
/// s ← softCap·tanh(s/softCap)           if softCap &gt; 0     (Gemma 2 attn_logit_softcapping)
/// visible(i, j) = j ≤ i ∧ (slidingWindow = 0 ∨ j &gt; i − slidingWindow) ∧ keyMask[b, j] ≠ 0
/// lse_i = log Σ_visible exp(s[i, j]);  P[i, j] = exp(s[i, j] − lse_i);  O_i = Σ_j P[i, j]·v_j
/// a row with no visible key: O_i = 0, lse_i = +∞ (so that backward's exp(s − lse) is 0)
/// backward (Dᵢ = dO_i·O_i):  dV += Pᵀ·dO;  dP = dO·Vᵀ;  dS = P ⊙ (dP − D)·(ds/draw)
///           dQ += dS·K;  dK += dSᵀ·Q        (ds/draw = scale, or scale·(1 − tanh²) with soft-capping)
/// </code>
/// Query rows go in blocks of <see cref="QueryBlock"/>; a block's keys are the rectangle left of its
/// diagonal block (one GEMM per product) plus the diagonal block in row chunks of
/// <see cref="DiagonalChunk"/> that each stop at their last row, so little above the diagonal is
/// computed. Keys before the window of the block's first row and after the batch row's last real key
/// (right padding) are skipped. The score block [QueryBlock, keys] lives in per-thread scratch.
/// Parallel over (batch, query head) in forward and over (batch, key/value head) in backward (that
/// task owns dK, dV of its head and loops over the query heads sharing it), statically split; the
/// GEMMs inside are thread-count independent, so results are bit-identical from run to run and do
/// not depend on the number of threads.
/// </summary>
public static unsafe class CausalAttentionKernel
{
    /// <summary>
    /// Query rows per block, a multiple of the GEMM micro-kernels' 12 (AVX-512) and 6 (AVX2) rows.
    /// 64, 96 and 128 (with chunks of a quarter) measured within noise of each other; 96 was best.
    /// </summary>
    internal const int QueryBlock = 96;

    /// <summary>
    /// Rows per GEMM on a block's diagonal part: products there stop at the chunk's last row, which
    /// leaves DiagonalChunk/2 wasted columns per row instead of QueryBlock/2.
    /// </summary>
    internal const int DiagonalChunk = 24;

    /// <summary>
    /// out [B, T, Hq·D] and logSumExp [B, Hq, T] from q [B, T, Hq·D], k and v [B, T, Hkv·D] and keyMask
    /// [B, T] (1 = token, 0 = padding) or null. slidingWindow 0 = none; softCap 0 = none.
    /// </summary>
    public static void Forward(float* q, float* k, float* v, float* keyMask, float* output, float* logSumExp,
        int batch, int time, int queryHeads, int keyValueHeads, int headDim, float scale, float softCap, int slidingWindow)
    {
        var job = new ForwardJob
        {
            Q = q, K = k, V = v, Mask = keyMask, O = output, Lse = logSumExp,
            G = new Geometry(time, queryHeads, keyValueHeads, headDim, scale, softCap, slidingWindow, KernelDispatch.Level),
        };
        Run(ref job, batch * queryHeads, time, headDim);
    }

    /// <summary>
    /// Accumulates dq [B, T, Hq·D], dk, dv [B, T, Hkv·D] (any may be null) from the forward's inputs,
    /// its output and log-sum-exp, and dOut [B, T, Hq·D].
    /// </summary>
    public static void Backward(float* q, float* k, float* v, float* keyMask, float* output, float* logSumExp, float* dOut,
        float* dq, float* dk, float* dv,
        int batch, int time, int queryHeads, int keyValueHeads, int headDim, float scale, float softCap, int slidingWindow)
    {
        if (dq == null && dk == null && dv == null) return;
        var job = new BackwardJob
        {
            Q = q, K = k, V = v, Mask = keyMask, O = output, Lse = logSumExp, DO = dOut, DQ = dq, DK = dk, DV = dv,
            G = new Geometry(time, queryHeads, keyValueHeads, headDim, scale, softCap, slidingWindow, KernelDispatch.Level),
        };
        Run(ref job, batch * keyValueHeads, time, headDim * queryHeads / keyValueHeads);
    }

    /// <summary>
    /// Runs the tasks over the pool (each task's GEMMs on its own thread), or, when the tasks would
    /// keep fewer than three quarters of the threads busy, one after the other on the caller with the
    /// GEMMs split over the pool. Either way the results are the same.
    /// </summary>
    private static void Run<TJob>(ref TJob job, int tasks, int time, int perTaskDepth) where TJob : struct, IParallelJob, IGemmThreads
    {
        var pool = WorkerPool.Default;
        long work = (long)time * time / 2 * Math.Max(1, perTaskDepth);
        int minPerThread = (int)Math.Clamp((1L << 17) / Math.Max(1, work), 1, int.MaxValue);
        if (tasks * 4 < pool.Threads * 3)
        {
            job.GemmThreads = pool.Threads;
            job.Execute(0, tasks);
            return;
        }
        job.GemmThreads = 1;
        pool.For(tasks, ref job, minPerThread);
    }

    private interface IGemmThreads
    {
        int GemmThreads { get; set; }
    }

    /// <summary>Sizes and scalars shared by forward and backward.</summary>
    private readonly struct Geometry(int time, int queryHeads, int keyValueHeads, int headDim, float scale, float softCap, int window, SimdLevel level)
    {
        public readonly int T = time, Hq = queryHeads, Hkv = keyValueHeads, D = headDim, Window = window;
        public readonly float Scale = scale, SoftCap = softCap;
        public readonly SimdLevel Level = level;
        public int Group => Hq / Hkv;
        public int Ldq => Hq * D;
        public int Ldk => Hkv * D;

        /// <summary>Row stride of a score block: the widest block's keys, padded to 16 floats and off 1 KB multiples.</summary>
        public int Lds
        {
            get
            {
                int cols = Window > 0 ? Math.Min(T, Window + QueryBlock - 1) : T;
                int ld = (Math.Max(1, cols) + 15) / 16 * 16;
                return ld % 256 == 0 ? ld + 16 : ld;
            }
        }

        /// <summary>First key query row i sees.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Lo(int i) => Window > 0 ? Math.Max(0, i - Window + 1) : 0;
    }

    /// <summary>
    /// The keys of query rows [I0, I1): [ColLo, ColHi) in all; the rectangle [ColLo, RectEnd) left of
    /// the diagonal, the diagonal part from I0 on. KeyEnd = 1 + the batch row's last real key.
    /// </summary>
    private readonly struct Block
    {
        public readonly int I0, I1, ColLo, ColHi, RectEnd, KeyEnd;

        public Block(int i0, int i1, int keyEnd, in Geometry g)
        {
            I0 = i0; I1 = i1; KeyEnd = keyEnd;
            ColLo = g.Lo(i0);
            ColHi = Math.Max(ColLo, Math.Min(i1, keyEnd));
            RectEnd = Math.Min(ColHi, i0);
        }

        /// <summary>End (exclusive) of the score columns the products read for query row i.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int ReadEnd(int i)
        {
            int chunkEnd = I0 + ((i - I0) / DiagonalChunk + 1) * DiagonalChunk;
            return Math.Max(RectEnd, Math.Min(Math.Min(chunkEnd, I1), KeyEnd));
        }

        /// <summary>
        /// The rectangles (rows [R0, R1) × keys [C0, C1)) the products run on: the one left of the
        /// diagonal (always first, possibly empty), then each diagonal chunk with keys.
        /// </summary>
        public int Pieces(Piece* pieces)
        {
            int n = 0;
            pieces[n++] = new Piece(I0, I1, ColLo, RectEnd);
            for (int r0 = I0; r0 < I1; r0 += DiagonalChunk)
            {
                int r1 = Math.Min(I1, r0 + DiagonalChunk), c1 = Math.Min(r1, KeyEnd);
                if (c1 > I0) pieces[n++] = new Piece(r0, r1, I0, c1);
            }
            return n;
        }
    }

    private readonly struct Piece(int r0, int r1, int c0, int c1)
    {
        public readonly int R0 = r0, R1 = r1, C0 = c0, C1 = c1;
        public int Rows => R1 - R0;
        public int Cols => C1 - C0;
    }

    private const int MaxPieces = 2 + QueryBlock / DiagonalChunk;

    /// <summary>(1 + last nonzero index, whether a zero comes before it) of a mask row; (T, false) without a mask.</summary>
    private static (int End, bool Holes) ScanMask(float* mask, int t)
    {
        if (mask == null) return (t, false);
        int end = t;
        while (end > 0 && mask[end - 1] == 0f) end--;
        for (int j = 0; j < end; j++) if (mask[j] == 0f) return (end, true);
        return (end, false);
    }

    /// <summary>buf[piece] = rowOperand[rows]·colOperand[keys]ᵀ over every piece (scores, or dP = dO·Vᵀ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoreProducts(Piece* pieces, int n, in Block blk, float* rowOp, int ldRow, float* colOp, int ldCol,
        float* buf, int lds, int d, SimdLevel level, int threads)
    {
        for (int p = 0; p < n; p++)
        {
            var pc = pieces[p];
            if (pc.Cols <= 0) continue;
            Gemm.Compute(GemmLayout.NT, pc.Rows, pc.Cols, d, rowOp + (long)pc.R0 * ldRow, ldRow, colOp + (long)pc.C0 * ldCol, ldCol,
                buf + (long)(pc.R0 - blk.I0) * lds + (pc.C0 - blk.ColLo), lds, accumulate: false, level, threads);
        }
    }

    /// <summary>
    /// target[rows] (+)= buf[piece]·colOperand[keys] over every piece (O = P·V, dQ = dS·K). With
    /// <paramref name="overwriteFirst"/> the first piece (the rectangle, whatever its width) stores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowProducts(Piece* pieces, int n, in Block blk, float* buf, int lds, float* colOp, int ldCol,
        float* target, int ldTarget, int d, bool overwriteFirst, SimdLevel level, int threads)
    {
        for (int p = 0; p < n; p++)
        {
            var pc = pieces[p];
            Gemm.Compute(GemmLayout.NN, pc.Rows, d, Math.Max(0, pc.Cols), buf + (long)(pc.R0 - blk.I0) * lds + (pc.C0 - blk.ColLo), lds,
                colOp + (long)pc.C0 * ldCol, ldCol, target + (long)pc.R0 * ldTarget, ldTarget,
                accumulate: !(overwriteFirst && p == 0), level, threads);
        }
    }

    /// <summary>target[keys] += buf[piece]ᵀ·rowOperand[rows] over every piece (dV = Pᵀ·dO, dK = dSᵀ·Q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnProducts(Piece* pieces, int n, in Block blk, float* buf, int lds, float* rowOp, int ldRow,
        float* target, int ldTarget, int d, SimdLevel level, int threads)
    {
        for (int p = 0; p < n; p++)
        {
            var pc = pieces[p];
            if (pc.Cols <= 0) continue;
            Gemm.Compute(GemmLayout.TN, pc.Cols, d, pc.Rows, buf + (long)(pc.R0 - blk.I0) * lds + (pc.C0 - blk.ColLo), lds,
                rowOp + (long)pc.R0 * ldRow, ldRow, target + (long)pc.C0 * ldTarget, ldTarget, accumulate: true, level, threads);
        }
    }

    private struct ForwardJob : IParallelJob, IGemmThreads
    {
        public float* Q, K, V, Mask, O, Lse;
        public Geometry G;
        public int GemmThreads { get; set; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            var g = G;
            int t = g.T, d = g.D, ldq = g.Ldq, ldk = g.Ldk, lds = g.Lds, threads = GemmThreads;
            var level = g.Level;
            float* s = AttentionWorkspace.Current.Get((long)QueryBlock * lds + QueryBlock + 16);
            float* invSum = s + (long)QueryBlock * lds;
            var pieces = stackalloc Piece[MaxPieces];
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / g.Hq, h = bh % g.Hq, kv = h / g.Group;
                float* qh = Q + (long)b * t * ldq + h * d, oh = O + (long)b * t * ldq + h * d;
                float* kh = K + (long)b * t * ldk + kv * d, vh = V + (long)b * t * ldk + kv * d;
                float* lse = Lse + (long)bh * t;
                float* mask = Mask == null ? null : Mask + (long)b * t;
                var (keyEnd, holes) = ScanMask(mask, t);
                float* rowMask = holes ? mask : null;

                for (int i0 = 0; i0 < t; i0 += QueryBlock)
                {
                    var blk = new Block(i0, Math.Min(t, i0 + QueryBlock), keyEnd, g);
                    int n = blk.Pieces(pieces);
                    ScoreProducts(pieces, n, blk, qh, ldq, kh, ldk, s, lds, d, level, threads);
                    for (int i = blk.I0; i < blk.I1; i++)
                    {
                        float* row = s + (long)(i - i0) * lds;
                        int lo = g.Lo(i) - blk.ColLo, hi = Math.Min(i + 1, keyEnd) - blk.ColLo, readLen = blk.ReadEnd(i) - blk.ColLo;
                        float sum = RowProbabilities(row, rowMask == null ? null : rowMask + blk.ColLo, lo, hi, g.Scale, g.SoftCap, level, out float rowLse);
                        ClearOutside(row, lo, hi, readLen);
                        lse[i] = rowLse;
                        invSum[i - i0] = sum > 0f ? 1f / sum : 0f;
                    }
                    // O[rows] = P·V (unnormalised P), then each row times 1/Σ.
                    RowProducts(pieces, n, blk, s, lds, vh, ldk, oh, ldq, d, overwriteFirst: true, level, threads);
                    for (int i = blk.I0; i < blk.I1; i++)
                    {
                        var o = new Span<float>(oh + (long)i * ldq, d);
                        TensorPrimitives.Multiply(o, invSum[i - i0], o);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ClearOutside(float* row, int lo, int hi, int readLen)
    {
        if (hi <= lo)
        {
            if (readLen > 0) new Span<float>(row, readLen).Clear();
            return;
        }
        if (lo > 0) new Span<float>(row, lo).Clear();
        if (readLen > hi) new Span<float>(row + hi, readLen - hi).Clear();
    }

    /// <summary>
    /// One score row, in place over [lo, hi): raw q·k → exp(x − max) with x = scale·s (or
    /// softCap·tanh(scale·s/softCap)), −∞ where the mask is 0. Returns Σ exp(x − max) (0 if nothing is
    /// visible) and the row's log-sum-exp (+∞ if nothing is visible). The vector paths finish the row
    /// with one partial vector whose extra lanes are computed but neither counted nor changed in
    /// memory: they read up to 15 floats past hi (the scratch has that slack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float RowProbabilities(float* s, float* mask, int lo, int hi, float scale, float softCap, SimdLevel level, out float lse)
    {
        lse = float.PositiveInfinity;
        if (hi <= lo) return 0f;
        bool capped = softCap > 0f;
        float capIn = scale / softCap;
        float alpha = capped ? 1f : scale; // exponent = α·x − α·max: raw scores carry the scale, capped ones include it
        float max, sum;
        if (level == SimdLevel.Vector512)
        {
            // Pass 1: transform (soft cap), mask, max.
            var ninf = Vector512.Create(float.NegativeInfinity);
            var vmax = ninf;
            float* tailMask = stackalloc float[16];
            for (int j = lo; j < hi; j += 16)
            {
                int rem = hi - j;
                var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rem)).AsSingle();
                var old = Vector512.Load(s + j);
                var x = old;
                if (capped) x = Vector512.Create(softCap) * FastMath.TanhAccurate(x * Vector512.Create(capIn));
                if (mask != null)
                {
                    var m = rem >= 16 ? Vector512.Load(mask + j) : LoadPartial512(mask + j, rem, tailMask);
                    x = Vector512.ConditionalSelect(Vector512.Equals(m, Vector512<float>.Zero), ninf, x);
                }
                if (capped || mask != null) Vector512.ConditionalSelect(valid, x, old).Store(s + j);
                vmax = Vector512.Max(vmax, Vector512.ConditionalSelect(valid, x, ninf));
            }
            max = HorizontalMax(Vector256.Max(vmax.GetLower(), vmax.GetUpper()));
            if (float.IsNegativeInfinity(max)) return ClearRow(s, lo, hi);
            // Pass 2: p = exp(α·x − α·max); Σ p.
            var va = Vector512.Create(alpha);
            var vb = Vector512.Create(-alpha * max);
            var acc = Vector512<float>.Zero;
            for (int j = lo; j < hi; j += 16)
            {
                var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(hi - j)).AsSingle();
                var old = Vector512.Load(s + j);
                var p = FastMath.Exp(Vector512.FusedMultiplyAdd(old, va, vb)) & valid;
                Vector512.ConditionalSelect(valid, p, old).Store(s + j);
                acc += p;
            }
            sum = Vector512.Sum(acc);
        }
        else if (level == SimdLevel.Vector256)
        {
            var ninf = Vector256.Create(float.NegativeInfinity);
            var vmax = ninf;
            float* tailMask = stackalloc float[8];
            for (int j = lo; j < hi; j += 8)
            {
                int rem = hi - j;
                var valid = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(rem)).AsSingle();
                var old = Vector256.Load(s + j);
                var x = old;
                if (capped) x = Vector256.Create(softCap) * FastMath.TanhAccurate(x * Vector256.Create(capIn));
                if (mask != null)
                {
                    var m = rem >= 8 ? Vector256.Load(mask + j) : LoadPartial256(mask + j, rem, tailMask);
                    x = Vector256.ConditionalSelect(Vector256.Equals(m, Vector256<float>.Zero), ninf, x);
                }
                if (capped || mask != null) Vector256.ConditionalSelect(valid, x, old).Store(s + j);
                vmax = Vector256.Max(vmax, Vector256.ConditionalSelect(valid, x, ninf));
            }
            max = HorizontalMax(vmax);
            if (float.IsNegativeInfinity(max)) return ClearRow(s, lo, hi);
            var va = Vector256.Create(alpha);
            var vb = Vector256.Create(-alpha * max);
            var acc = Vector256<float>.Zero;
            for (int j = lo; j < hi; j += 8)
            {
                var valid = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(hi - j)).AsSingle();
                var old = Vector256.Load(s + j);
                var p = FastMath.Exp(Vector256.FusedMultiplyAdd(old, va, vb)) & valid;
                Vector256.ConditionalSelect(valid, p, old).Store(s + j);
                acc += p;
            }
            sum = Vector256.Sum(acc);
        }
        else
        {
            max = float.NegativeInfinity;
            for (int j = lo; j < hi; j++)
            {
                float x = s[j];
                if (capped) x = softCap * MathF.Tanh(x * capIn);
                if (mask != null && mask[j] == 0f) x = float.NegativeInfinity;
                s[j] = x;
                max = MathF.Max(max, x);
            }
            if (float.IsNegativeInfinity(max)) return ClearRow(s, lo, hi);
            float shift = -alpha * max;
            sum = 0f;
            for (int j = lo; j < hi; j++)
            {
                float p = MathF.Exp(MathF.FusedMultiplyAdd(s[j], alpha, shift));
                s[j] = p;
                sum += p;
            }
        }
        lse = alpha * max + MathF.Log(sum);
        return sum;
    }

    // Every visible key is padding: P = 0 over [lo, hi), Σ = 0.
    private static float ClearRow(float* s, int lo, int hi)
    {
        new Span<float>(s + lo, hi - lo).Clear();
        return 0f;
    }

    /// <summary>The first n (&lt; 16) floats at p in a vector (the other lanes 1), without reading past p + n.</summary>
    private static Vector512<float> LoadPartial512(float* p, int n, float* buffer)
    {
        for (int l = 0; l < 16; l++) buffer[l] = l < n ? p[l] : 1f;
        return Vector512.Load(buffer);
    }

    private static Vector256<float> LoadPartial256(float* p, int n, float* buffer)
    {
        for (int l = 0; l < 8; l++) buffer[l] = l < n ? p[l] : 1f;
        return Vector256.Load(buffer);
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        float r = float.NegativeInfinity;
        for (int l = 0; l < 8; l++) r = MathF.Max(r, v.GetElement(l));
        return r;
    }

    private struct BackwardJob : IParallelJob, IGemmThreads
    {
        public float* Q, K, V, Mask, O, Lse, DO, DQ, DK, DV;
        public Geometry G;
        public int GemmThreads { get; set; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            var g = G;
            int t = g.T, d = g.D, ldq = g.Ldq, ldk = g.Ldk, lds = g.Lds, threads = GemmThreads;
            var level = g.Level;
            bool needDs = DQ != null || DK != null;
            float* s = AttentionWorkspace.Current.Get(2L * QueryBlock * lds + QueryBlock + 16);
            float* dp = s + (long)QueryBlock * lds;
            float* rowDot = dp + (long)QueryBlock * lds;
            var pieces = stackalloc Piece[MaxPieces];
            for (int task = start; task < end; task++)
            {
                int b = task / g.Hkv, kv = task % g.Hkv;
                long kOff = (long)b * t * ldk + kv * d;
                float* kh = K + kOff, vh = V + kOff;
                float* dk = DK == null ? null : DK + kOff, dv = DV == null ? null : DV + kOff;
                float* mask = Mask == null ? null : Mask + (long)b * t;
                var (keyEnd, holes) = ScanMask(mask, t);
                float* rowMask = holes ? mask : null;

                for (int h = kv * g.Group; h < (kv + 1) * g.Group; h++)
                {
                    long qOff = (long)b * t * ldq + h * d;
                    float* qh = Q + qOff, oh = O + qOff, dOh = DO + qOff;
                    float* dq = DQ == null ? null : DQ + qOff;
                    float* lse = Lse + ((long)b * g.Hq + h) * t;

                    for (int i0 = 0; i0 < t; i0 += QueryBlock)
                    {
                        var blk = new Block(i0, Math.Min(t, i0 + QueryBlock), keyEnd, g);
                        if (blk.ColHi <= blk.ColLo) continue; // no query row of the block sees a key: no gradient
                        int n = blk.Pieces(pieces);
                        ScoreProducts(pieces, n, blk, qh, ldq, kh, ldk, s, lds, d, level, threads);
                        if (needDs) ScoreProducts(pieces, n, blk, dOh, ldq, vh, ldk, dp, lds, d, level, threads);
                        for (int i = blk.I0; i < blk.I1; i++)
                            rowDot[i - i0] = TensorPrimitives.Dot(new ReadOnlySpan<float>(dOh + (long)i * ldq, d), new ReadOnlySpan<float>(oh + (long)i * ldq, d));
                        for (int i = blk.I0; i < blk.I1; i++)
                        {
                            long r = (long)(i - i0) * lds;
                            int lo = g.Lo(i) - blk.ColLo, hi = Math.Min(i + 1, keyEnd) - blk.ColLo, readLen = blk.ReadEnd(i) - blk.ColLo;
                            RowGradients(s + r, needDs ? dp + r : null, rowMask == null ? null : rowMask + blk.ColLo, lo, hi,
                                lse[i], rowDot[i - i0], g.Scale, g.SoftCap, level);
                            ClearOutside(s + r, lo, hi, readLen);
                            if (needDs) ClearOutside(dp + r, lo, hi, readLen);
                        }
                        if (dv != null) ColumnProducts(pieces, n, blk, s, lds, dOh, ldq, dv, ldk, d, level, threads);
                        if (dk != null) ColumnProducts(pieces, n, blk, dp, lds, qh, ldq, dk, ldk, d, level, threads);
                        if (dq != null) RowProducts(pieces, n, blk, dp, lds, kh, ldk, dq, ldq, d, overwriteFirst: false, level, threads);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One row over [lo, hi), in place: s (raw q·k) → P = exp(x − lse); dp (dO·v) → dS = P·(dp − D)·x′
    /// with x = scale·s, x′ = scale, or x = c·tanh(scale·s/c), x′ = scale·(1 − tanh²). Masked keys get 0.
    /// The vector paths end with a partial vector, as <see cref="RowProbabilities"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowGradients(float* s, float* dp, float* mask, int lo, int hi, float lse, float rowDot,
        float scale, float softCap, SimdLevel level)
    {
        if (hi <= lo) return;
        bool capped = softCap > 0f;
        float capIn = scale / softCap;
        if (level == SimdLevel.Vector512)
        {
            var vScale = Vector512.Create(scale);
            var vLse = Vector512.Create(-lse);
            var vDot = Vector512.Create(rowDot);
            float* tailMask = stackalloc float[16];
            for (int j = lo; j < hi; j += 16)
            {
                int rem = hi - j;
                var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rem)).AsSingle();
                var raw = Vector512.Load(s + j);
                Vector512<float> p, dx = vScale;
                if (capped)
                {
                    var th = FastMath.TanhAccurate(raw * Vector512.Create(capIn));
                    p = FastMath.Exp(Vector512.FusedMultiplyAdd(Vector512.Create(softCap), th, vLse));
                    dx = vScale * Vector512.FusedMultiplyAdd(-th, th, Vector512<float>.One);
                }
                else p = FastMath.Exp(Vector512.FusedMultiplyAdd(raw, vScale, vLse));
                if (mask != null)
                {
                    var m = rem >= 16 ? Vector512.Load(mask + j) : LoadPartial512(mask + j, rem, tailMask);
                    p = Vector512.ConditionalSelect(Vector512.Equals(m, Vector512<float>.Zero), Vector512<float>.Zero, p);
                }
                Vector512.ConditionalSelect(valid, p, raw).Store(s + j);
                if (dp != null)
                {
                    var g = Vector512.Load(dp + j);
                    Vector512.ConditionalSelect(valid, p * (g - vDot) * dx, g).Store(dp + j);
                }
            }
        }
        else if (level == SimdLevel.Vector256)
        {
            var vScale = Vector256.Create(scale);
            var vLse = Vector256.Create(-lse);
            var vDot = Vector256.Create(rowDot);
            float* tailMask = stackalloc float[8];
            for (int j = lo; j < hi; j += 8)
            {
                int rem = hi - j;
                var valid = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(rem)).AsSingle();
                var raw = Vector256.Load(s + j);
                Vector256<float> p, dx = vScale;
                if (capped)
                {
                    var th = FastMath.TanhAccurate(raw * Vector256.Create(capIn));
                    p = FastMath.Exp(Vector256.FusedMultiplyAdd(Vector256.Create(softCap), th, vLse));
                    dx = vScale * Vector256.FusedMultiplyAdd(-th, th, Vector256<float>.One);
                }
                else p = FastMath.Exp(Vector256.FusedMultiplyAdd(raw, vScale, vLse));
                if (mask != null)
                {
                    var m = rem >= 8 ? Vector256.Load(mask + j) : LoadPartial256(mask + j, rem, tailMask);
                    p = Vector256.ConditionalSelect(Vector256.Equals(m, Vector256<float>.Zero), Vector256<float>.Zero, p);
                }
                Vector256.ConditionalSelect(valid, p, raw).Store(s + j);
                if (dp != null)
                {
                    var g = Vector256.Load(dp + j);
                    Vector256.ConditionalSelect(valid, p * (g - vDot) * dx, g).Store(dp + j);
                }
            }
        }
        else
        {
            for (int j = lo; j < hi; j++)
            {
                float raw = s[j], p, dx = scale;
                if (capped)
                {
                    float th = MathF.Tanh(raw * capIn);
                    p = MathF.Exp(MathF.FusedMultiplyAdd(softCap, th, -lse));
                    dx = scale * (1f - th * th);
                }
                else p = MathF.Exp(MathF.FusedMultiplyAdd(raw, scale, -lse));
                if (mask != null && mask[j] == 0f) p = 0f;
                s[j] = p;
                if (dp != null) dp[j] = p * (dp[j] - rowDot) * dx;
            }
        }
    }
}
