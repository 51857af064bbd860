using System.Runtime.InteropServices;

namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Scratch memory of one thread for the blockwise attention kernels (score and gradient blocks,
/// per-row values): native, 64-byte aligned, grown on demand and kept for the thread's next call,
/// freed by the finalizer when the thread is gone. Calls allocate nothing once it has grown.
/// </summary>
internal sealed unsafe class AttentionWorkspace
{
    [ThreadStatic] private static AttentionWorkspace? t_current;

    /// <summary>The calling thread's workspace.</summary>
    public static AttentionWorkspace Current => t_current ??= new AttentionWorkspace();

    private float* _data;
    private long _capacity;

    /// <summary>At least <paramref name="floats"/> floats; the contents are undefined. Valid until the next call on this thread.</summary>
    public float* Get(long floats)
    {
        if (floats > _capacity)
        {
            if (_data != null) NativeMemory.AlignedFree(_data);
            _capacity = Math.Max(floats, _capacity * 2);
            _data = (float*)NativeMemory.AlignedAlloc((nuint)(_capacity * sizeof(float)), 64);
            if (_data == null) throw new OutOfMemoryException($"cannot allocate {_capacity} floats of attention scratch");
        }
        return _data;
    }

    ~AttentionWorkspace()
    {
        if (_data != null) NativeMemory.AlignedFree(_data);
    }
}
