using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// T5's relative position bias, gathered from the bucket table and laid out per head.
/// <code>
/// forward:  out[h, p] = table[buckets[p], h]        table: [numBuckets, H], buckets: [qLen·kLen], out: [H, qLen·kLen]
/// backward: dTable[buckets[p], h] += dOut[h, p]     for p in order
/// </code>
/// Both are parallel over heads: a head owns one column of the table, so the scatter-add never
/// races and its order is fixed. Buckets are trusted here (the op validates them).
/// </summary>
public static unsafe class PositionBiasKernel
{
    public static void Forward(float* table, int heads, int* buckets, int positions, float* output)
    {
        var job = new Job { Table = table, Heads = heads, Buckets = buckets, Positions = positions, Bias = output, Backward = false };
        WorkerPool.Default.For(heads, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, positions)));
    }

    public static void Backward(float* dOut, int heads, int* buckets, int positions, float* dTable)
    {
        var job = new Job { Table = dTable, Heads = heads, Buckets = buckets, Positions = positions, Bias = dOut, Backward = true };
        WorkerPool.Default.For(heads, ref job, Math.Max(1, ElementwiseKernels.MinPerThread / Math.Max(1, positions)));
    }

    private struct Job : IParallelJob
    {
        public float* Table, Bias;
        public int* Buckets;
        public int Heads, Positions;
        public bool Backward;

        public readonly void Execute(int start, int end)
        {
            for (int h = start; h < end; h++)
            {
                float* bias = Bias + (long)h * Positions;
                float* column = Table + h;
                if (Backward)
                    for (int p = 0; p < Positions; p++) column[(long)Buckets[p] * Heads] += bias[p];
                else
                    for (int p = 0; p < Positions; p++) bias[p] = column[(long)Buckets[p] * Heads];
            }
        }
    }
}
