using System.Runtime.InteropServices;

namespace DroSharp.Tensors;

/// <summary>
/// Bump allocator for the tensors of one step (activations, their gradients, scratch).
/// <see cref="Reset"/> after the optimiser step makes all of them invalid at once. Tensor headers
/// are pooled too, so once the arena has grown to a step's high-water mark, a steady-state step
/// allocates nothing on the managed heap.
/// </summary>
public sealed unsafe class TensorArena : IDisposable
{
    private readonly List<(IntPtr Ptr, long Bytes)> _blocks = new();
    private long _blockUsed;
    private readonly List<Tensor> _headers = new();
    private int _headersUsed;
    private long _highWater;
    private long _used;

    public TensorArena(long initialBytes = 1 << 20)
    {
        AddBlock(Math.Max(initialBytes, 4096));
    }

    /// <summary>Bytes handed out since the last reset.</summary>
    public long BytesInUse => _used;

    /// <summary>Largest <see cref="BytesInUse"/> ever seen.</summary>
    public long HighWaterBytes => _highWater;

    /// <summary>Total native bytes held.</summary>
    public long CapacityBytes
    {
        get
        {
            long s = 0;
            foreach (var b in _blocks) s += b.Bytes;
            return s;
        }
    }

    /// <summary>A tensor whose contents are undefined until the caller writes them.</summary>
    public Tensor Uninitialized(Shape shape)
    {
        long bytes = ((long)Math.Max(1, shape.Count) * sizeof(float) + Tensor.Alignment - 1) / Tensor.Alignment * Tensor.Alignment;
        var (ptr, size) = _blocks[^1];
        if (_blockUsed + bytes > size)
        {
            AddBlock(Math.Max(bytes, size * 2));
            (ptr, size) = _blocks[^1];
        }
        float* p = (float*)((byte*)ptr + _blockUsed);
        _blockUsed += bytes;
        _used += bytes;
        if (_used > _highWater) _highWater = _used;

        Tensor t;
        if (_headersUsed < _headers.Count) t = _headers[_headersUsed];
        else { t = new Tensor(); _headers.Add(t); }
        _headersUsed++;
        t.Rebind(p, shape);
        return t;
    }

    /// <summary>
    /// A pooled header over memory the arena does not own (a reshaped view of another tensor), so
    /// that views cost no managed allocation either. Valid until <see cref="Reset"/>.
    /// </summary>
    public Tensor View(float* data, Shape shape)
    {
        Tensor t;
        if (_headersUsed < _headers.Count) t = _headers[_headersUsed];
        else { t = new Tensor(); _headers.Add(t); }
        _headersUsed++;
        t.Rebind(data, shape);
        return t;
    }

    public Tensor Zeros(Shape shape)
    {
        var t = Uninitialized(shape);
        t.Clear();
        return t;
    }

    /// <summary>
    /// Releases every tensor of the step. When the step needed more than one block, the blocks are
    /// merged into one of the high-water size so that the next step bump-allocates from one block.
    /// </summary>
    public void Reset()
    {
        if (_blocks.Count > 1)
        {
            long total = CapacityBytes;
            foreach (var b in _blocks) NativeMemory.AlignedFree((void*)b.Ptr);
            _blocks.Clear();
            AddBlock(Math.Max(total, _highWater));
        }
        for (int i = 0; i < _headersUsed; i++) _headers[i].Rebind(null, Shape.Scalar);
        _headersUsed = 0;
        _blockUsed = 0;
        _used = 0;
    }

    private void AddBlock(long bytes)
    {
        bytes = (bytes + Tensor.Alignment - 1) / Tensor.Alignment * Tensor.Alignment;
        void* p = NativeMemory.AlignedAlloc((nuint)bytes, Tensor.Alignment);
        if (p == null) throw new OutOfMemoryException($"tensor arena cannot grow by {bytes} bytes");
        _blocks.Add(((IntPtr)p, bytes));
        _blockUsed = 0;
    }

    public void Dispose()
    {
        foreach (var b in _blocks) NativeMemory.AlignedFree((void*)b.Ptr);
        _blocks.Clear();
        _headers.Clear();
        _headersUsed = 0;
    }
}
