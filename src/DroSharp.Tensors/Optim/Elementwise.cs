using DroSharp.Tensors.Kernels;
using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Optim;

/// <summary>
/// One step of an elementwise kernel: processes <c>TL.Count</c> consecutive elements from index i.
/// Elements are independent, so any split over threads and any vector width gives the same bits.
/// </summary>
internal interface IElementwiseBody
{
    void Apply<TL>(int i) where TL : struct, IFloatLanes<TL>;
}

/// <summary>Runs an elementwise body over [0, length): fixed chunks over the worker pool, vectors inside a chunk, a scalar tail.</summary>
internal static class Elementwise
{
    /// <summary>Elements per parallel work item (64 KB of floats). Fixed, so the work split never depends on the thread count.</summary>
    public const int ChunkSize = 16384;

    public static int ChunkCount(int length) => (int)(((long)length + ChunkSize - 1) / ChunkSize);

    public static void Run<TBody>(WorkerPool pool, int length, TBody body) where TBody : struct, IElementwiseBody
    {
        if (length <= 0) return;
        var job = new ChunkJob<TBody> { Body = body, Length = length, Level = KernelDispatch.Level };
        pool.For(ChunkCount(length), ref job, minPerThread: 2);
    }

    /// <summary>Runs the body over [start, end) on the calling thread at the current SIMD level.</summary>
    public static void RunSerial<TBody>(ref TBody body, int start, int end) where TBody : struct, IElementwiseBody
    {
        switch (KernelDispatch.Level)
        {
            case SimdLevel.Vector512: Range<Lanes512, TBody>(ref body, start, end); break;
            case SimdLevel.Vector256: Range<Lanes256, TBody>(ref body, start, end); break;
            default: Range<Lanes1, TBody>(ref body, start, end); break;
        }
    }

    private static void Range<TL, TBody>(ref TBody body, int start, int end)
        where TL : struct, IFloatLanes<TL> where TBody : struct, IElementwiseBody
    {
        int i = start;
        for (; i + TL.Count <= end; i += TL.Count) body.Apply<TL>(i);
        for (; i < end; i++) body.Apply<Lanes1>(i);
    }

    private struct ChunkJob<TBody> : IParallelJob where TBody : struct, IElementwiseBody
    {
        public TBody Body;
        public int Length;
        public SimdLevel Level;

        public void Execute(int startChunk, int endChunk)
        {
            int start = startChunk * ChunkSize;
            int end = (int)Math.Min((long)endChunk * ChunkSize, Length);
            switch (Level)
            {
                case SimdLevel.Vector512: Range<Lanes512, TBody>(ref Body, start, end); break;
                case SimdLevel.Vector256: Range<Lanes256, TBody>(ref Body, start, end); break;
                default: Range<Lanes1, TBody>(ref Body, start, end); break;
            }
        }
    }
}
