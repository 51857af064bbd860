using System.Numerics.Tensors;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Row gather from an embedding table and its transpose, the scatter-add of gradients.
/// <code>
/// forward:  out[t, :] = weight[ids[t], :]          weight: [vocab, d], out: [n, d]
/// backward: dWeight[ids[t], :] += dOut[t, :]        for t = 0 … n−1 in order
/// </code>
/// Ids are trusted here (the op validates them). The backward is parallel over blocks of the
/// embedding dimension, never over tokens, so repeated ids never race and the sum order is fixed.
/// </summary>
public static unsafe class EmbeddingKernel
{
    public static void Gather(float* weight, int d, int* ids, int n, float* output)
    {
        var job = new GatherJob { Weight = weight, D = d, Ids = ids, Out = output };
        WorkerPool.Default.For(n, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, d)));
    }

    public static void ScatterAdd(float* dOut, int* ids, int n, int d, float* dWeight)
    {
        var job = new ScatterJob { DOut = dOut, D = d, Ids = ids, N = n, DWeight = dWeight };
        WorkerPool.Default.For((d + 15) / 16, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / 16 / Math.Max(1, n)));
    }

    private struct GatherJob : IParallelJob
    {
        public float* Weight, Out;
        public int* Ids;
        public int D;

        public readonly void Execute(int start, int end)
        {
            long bytes = (long)D * sizeof(float);
            for (int t = start; t < end; t++)
                Buffer.MemoryCopy(Weight + (long)Ids[t] * D, Out + (long)t * D, bytes, bytes);
        }
    }

    private struct ScatterJob : IParallelJob
    {
        public float* DOut, DWeight;
        public int* Ids;
        public int D, N;

        public readonly void Execute(int blockStart, int blockEnd)
        {
            int start = blockStart * 16, len = Math.Min(D, blockEnd * 16) - start;
            for (int t = 0; t < N; t++)
            {
                var dst = new Span<float>(DWeight + (long)Ids[t] * D + start, len);
                TensorPrimitives.Add(dst, new ReadOnlySpan<float>(DOut + (long)t * D + start, len), dst);
            }
        }
    }
}
