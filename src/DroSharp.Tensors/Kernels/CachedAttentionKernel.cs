using System.Runtime.Intrinsics;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// One decoding step of causal attention against a key/value cache (no gradient): one new query per
/// batch row, whose keys are the first len_b slots of the cache (the query itself is at len_b − 1).
/// <code>
/// q, out: [B, Hq·D];  kCache, vCache: [B, Capacity, Hkv·D];  query head h reads kv head h / (Hq/Hkv)
/// visible keys of row b: j ∈ [max(0, len_b − slidingWindow), len_b)   (all of [0, len_b) without a window)
/// s_j = scale·q·k_j  (then softCap·tanh(s_j/softCap) if softCap &gt; 0);  out = Σ_j softmax(s)_j·v_j
/// </code>
/// The same values as <see cref="CausalAttentionKernel"/> on the whole prefix, up to rounding.
/// Parallel over (batch, key/value head): each task reads its keys once for all the query heads
/// that share them. len_b = 0 gives zeros.
/// </summary>
public static unsafe class CachedAttentionKernel
{
    public static void Forward(float* q, float* kCache, float* vCache, int* keyLengths, float* output,
        int batch, int capacity, int queryHeads, int keyValueHeads, int headDim, float scale, float softCap, int slidingWindow)
    {
        var job = new Job
        {
            Q = q, K = kCache, V = vCache, Lengths = keyLengths, O = output,
            Capacity = capacity, Hq = queryHeads, Hkv = keyValueHeads, D = headDim,
            Scale = scale, SoftCap = softCap, Window = slidingWindow, Level = KernelDispatch.Level,
        };
        long maxLen = 1;
        for (int b = 0; b < batch; b++) maxLen = Math.Max(maxLen, keyLengths[b]);
        long work = maxLen * 2 * headDim * (queryHeads / keyValueHeads);
        WorkerPool.Default.For(batch * keyValueHeads, ref job, (int)Math.Clamp((1L << 15) / work, 1, int.MaxValue));
    }

    private struct Job : IParallelJob
    {
        public float* Q, K, V, O;
        public int* Lengths;
        public int Capacity, Hq, Hkv, D, Window;
        public float Scale, SoftCap;
        public SimdLevel Level;

        public readonly void Execute(int start, int end)
        {
            int d = D, group = Hq / Hkv, ldq = Hq * d, ldk = Hkv * d;
            var level = Level;
            for (int task = start; task < end; task++)
            {
                int b = task / Hkv, kv = task % Hkv;
                int len = Lengths[b], lo = Window > 0 ? Math.Max(0, len - Window) : 0, n = len - lo;
                float* qg = Q + (long)b * ldq + kv * group * d;
                float* og = O + (long)b * ldq + kv * group * d;
                new Span<float>(og, group * d).Clear();
                if (n <= 0) continue;
                float* kb = K + ((long)b * Capacity + lo) * ldk + kv * d;
                float* vb = V + ((long)b * Capacity + lo) * ldk + kv * d;
                // scores [group, n]
                float* s = AttentionWorkspace.Current.Get((long)group * n);
                for (int j = 0; j < n; j++)
                {
                    float* kj = kb + (long)j * ldk;
                    for (int r = 0; r < group; r++) s[(long)r * n + j] = Dot(qg + r * d, kj, d, level);
                }
                for (int r = 0; r < group; r++)
                {
                    float* sr = s + (long)r * n;
                    float max = float.NegativeInfinity;
                    for (int j = 0; j < n; j++)
                    {
                        float x = sr[j] * Scale;
                        if (SoftCap > 0f) x = SoftCap * MathF.Tanh(x / SoftCap);
                        sr[j] = x;
                        max = MathF.Max(max, x);
                    }
                    float sum = 0f;
                    for (int j = 0; j < n; j++)
                    {
                        float p = MathF.Exp(sr[j] - max);
                        sr[j] = p;
                        sum += p;
                    }
                    float inv = 1f / sum;
                    float* o = og + r * d;
                    for (int j = 0; j < n; j++) Axpy(sr[j] * inv, vb + (long)j * ldk, o, d, level);
                }
            }
        }
    }

    /// <summary>Σ a_i·b_i over n elements.</summary>
    private static float Dot(float* a, float* b, int n, SimdLevel level)
    {
        int i = 0;
        float sum = 0f;
        if (level == SimdLevel.Vector512 && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            sum = Vector512.Sum(acc);
        }
        else if (level >= SimdLevel.Vector256 && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y += α·x over n elements.</summary>
    private static void Axpy(float alpha, float* x, float* y, int n, SimdLevel level)
    {
        int i = 0;
        if (level == SimdLevel.Vector512)
        {
            var va = Vector512.Create(alpha);
            for (; i + 16 <= n; i += 16) Vector512.FusedMultiplyAdd(Vector512.Load(x + i), va, Vector512.Load(y + i)).Store(y + i);
        }
        if (level >= SimdLevel.Vector256)
        {
            var va = Vector256.Create(alpha);
            for (; i + 8 <= n; i += 8) Vector256.FusedMultiplyAdd(Vector256.Load(x + i), va, Vector256.Load(y + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] += alpha * x[i];
    }
}
