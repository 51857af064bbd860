using System.Runtime.InteropServices;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// One growable, 64-byte-aligned float buffer per thread for an op's short-lived temporary that must
/// not stay in the tape's arena (e.g. LoRA's dropout(x), recomputed in backward instead of kept).
/// Valid until the next <see cref="Get"/> on the same thread; ops use it strictly one at a time.
/// </summary>
internal static unsafe class ScratchBuffer
{
    [ThreadStatic] private static float* t_data;
    [ThreadStatic] private static long t_capacity;

    /// <summary>At least <paramref name="count"/> floats, contents undefined.</summary>
    public static float* Get(long count)
    {
        if (count > t_capacity)
        {
            if (t_data != null) NativeMemory.AlignedFree(t_data);
            long capacity = Math.Max(count, t_capacity * 3 / 2);
            t_data = (float*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(float)), Tensor.Alignment);
            if (t_data == null) throw new OutOfMemoryException($"cannot allocate a scratch buffer of {capacity} floats");
            t_capacity = capacity;
        }
        return t_data;
    }
}
