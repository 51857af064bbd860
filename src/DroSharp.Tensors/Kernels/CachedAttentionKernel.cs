using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
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
/// Parallel over (batch, key/value head): each task reads its keys and values once for all the
/// query heads that share them (two small GEMMs, S = Q_g·Kᵀ and O_g = P·V). len_b = 0 gives zeros.
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

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int d = D, group = Hq / Hkv, ldq = Hq * d, ldk = Hkv * d;
            var level = Level;
            for (int task = start; task < end; task++)
            {
                int b = task / Hkv, kv = task % Hkv;
                int len = Lengths[b], lo = Window > 0 ? Math.Max(0, len - Window) : 0, n = len - lo;
                // The group's query heads are contiguous: Q_g [group, D], O_g likewise.
                float* qg = Q + (long)b * ldq + kv * group * d;
                float* og = O + (long)b * ldq + kv * group * d;
                if (n <= 0)
                {
                    new Span<float>(og, group * d).Clear();
                    continue;
                }
                float* kb = K + ((long)b * Capacity + lo) * ldk + kv * d;
                float* vb = V + ((long)b * Capacity + lo) * ldk + kv * d;
                // S [group, n] = Q_g·K[lo:len]ᵀ (each key read once for the whole group), then the
                // probabilities row by row, O_g = P·V[lo:len] and each row times 1/Σ.
                int lds = (n + 15) / 16 * 16;
                float* s = AttentionWorkspace.Current.Get((long)group * lds + group + 16);
                float* invSum = s + (long)group * lds;
                Gemm.Compute(GemmLayout.NT, group, n, d, qg, d, kb, ldk, s, lds, accumulate: false, level, 1);
                for (int r = 0; r < group; r++)
                    invSum[r] = 1f / CausalAttentionKernel.RowProbabilities(s + (long)r * lds, null, 0, n, Scale, SoftCap, level, out _);
                Gemm.Compute(GemmLayout.NN, group, d, n, s, lds, vb, ldk, og, d, accumulate: false, level, 1);
                for (int r = 0; r < group; r++)
                {
                    var o = new Span<float>(og + r * d, d);
                    TensorPrimitives.Multiply(o, invSum[r], o);
                }
            }
        }
    }
}
