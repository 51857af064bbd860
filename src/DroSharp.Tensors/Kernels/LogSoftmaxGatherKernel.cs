using System.Numerics.Tensors;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// The log-probability of each row's target token, without ever writing the [N, V] log-prob matrix.
/// <code>
/// forward:  lseᵢ = mᵢ + log Σⱼ exp(logits[i, j] − mᵢ),  mᵢ = maxⱼ logits[i, j]
///           out[i] = logits[i, tᵢ] − lseᵢ                 (0 for tᵢ &lt; 0: padding)
/// backward: dlogits[i, j] += gᵢ·(1[j = tᵢ] − exp(logits[i, j] − lseᵢ))   (softmax recomputed)
/// </code>
/// Each row is two read passes forward (max, then exp-sum) and one read-modify-write pass
/// backward, vectorised; rows are split over the worker pool. Targets are trusted here.
/// </summary>
public static unsafe class LogSoftmaxGatherKernel
{
    /// <summary>
    /// logits: [n, v], targets: [n] → output: [n]; writes lse: [n] (the row's log-sum-exp, needed by
    /// backward) when not null. Rows with a negative target are skipped entirely (output 0, lse 0).
    /// </summary>
    public static void Forward(float* logits, int* targets, int n, int v, float* output, float* lse)
    {
        var job = new Job { Logits = logits, Targets = targets, V = v, Out = output, Lse = lse, Backward = false };
        WorkerPool.Default.For(n, ref job, Math.Max(1, 8192 / Math.Max(1, v)));
    }

    /// <summary>dlogits += … (see the class summary) from the upstream gradient g: [n].</summary>
    public static void Backward(float* logits, int* targets, float* lse, float* g, float* dlogits, int n, int v) =>
        Backward(logits, targets, lse, g, dlogits, n, v, overwrite: false);

    /// <summary>
    /// As the accumulating overload, or with <paramref name="overwrite"/> dlogits = … : every element is
    /// written (rows with a negative target or a zero gradient become zeros), so the buffer need not
    /// be cleared first — one write pass over [n, v] instead of clear + read + write.
    /// </summary>
    public static void Backward(float* logits, int* targets, float* lse, float* g, float* dlogits, int n, int v, bool overwrite)
    {
        var job = new Job { Logits = logits, Targets = targets, V = v, Out = g, Lse = lse, DLogits = dlogits, Backward = true, Overwrite = overwrite };
        WorkerPool.Default.For(n, ref job, Math.Max(1, 8192 / Math.Max(1, v)));
    }

    private struct Job : IParallelJob
    {
        public float* Logits, Out, Lse, DLogits;
        public int* Targets;
        public int V;
        public bool Backward, Overwrite;

        public readonly void Execute(int start, int end)
        {
            var level = KernelDispatch.Level;
            int v = V;
            for (int i = start; i < end; i++)
            {
                int t = Targets[i];
                float* row = Logits + (long)i * v;
                if (Backward)
                {
                    float g = Out[i];
                    float* drow = DLogits + (long)i * v;
                    if (t < 0 || g == 0f)
                    {
                        if (Overwrite) new Span<float>(drow, v).Clear();
                        continue;
                    }
                    SoftmaxKernel.ScaledExp(row, drow, v, Lse[i], -g, level, accumulate: !Overwrite);
                    drow[t] += g;
                }
                else
                {
                    if (t < 0)
                    {
                        Out[i] = 0f;
                        if (Lse != null) Lse[i] = 0f;
                        continue;
                    }
                    float lse = SoftmaxKernel.LogSumExp(row, v, level);
                    Out[i] = row[t] - lse;
                    if (Lse != null) Lse[i] = lse;
                }
            }
        }
    }
}
