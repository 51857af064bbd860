using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DroSharp.Tensors.Kernels;

namespace DroSharp.Tensors;

/// <summary>
/// A dense float32 tensor in row-major order on 64-byte-aligned native memory.
/// A tensor either owns its memory (parameters, long-lived buffers: freed by <see cref="Dispose"/>
/// or the finaliser), or borrows it from a <see cref="TensorArena"/> (activations of one step) or
/// from another tensor (a reshaped view).
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    public const int Alignment = 64;

    private float* _data;
    private bool _ownsMemory;

    /// <summary>First element. Contiguous, row-major, <see cref="Length"/> floats.</summary>
    public float* Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _data;
    }

    public Shape Shape { get; private set; }

    /// <summary>True when this tensor allocated its memory itself (a parameter or long-lived buffer).</summary>
    public bool OwnsMemory => _ownsMemory;

    public int Length { get; private set; }

    /// <summary>Gradient of the loss with respect to this tensor, same shape; null until backward needs it.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>True for parameters and for every tensor computed from one while a tape records.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Hugging Face parameter name for parameters (e.g. <c>encoder.block.0.layer.0.SelfAttention.q.weight</c>).</summary>
    public string? Name { get; set; }

    internal Tensor() { }

    private Tensor(float* data, Shape shape, bool owns)
    {
        _data = data;
        Shape = shape;
        Length = shape.Count;
        _ownsMemory = owns;
    }

    /// <summary>A tensor that owns fresh zeroed memory.</summary>
    public static Tensor Zeros(Shape shape)
    {
        var t = Uninitialized(shape);
        t.Clear();
        return t;
    }

    public static Tensor Zeros(int d0) => Zeros(new Shape(d0));
    public static Tensor Zeros(int d0, int d1) => Zeros(new Shape(d0, d1));
    public static Tensor Zeros(int d0, int d1, int d2) => Zeros(new Shape(d0, d1, d2));

    /// <summary>A tensor that owns fresh memory whose contents are undefined.</summary>
    public static Tensor Uninitialized(Shape shape)
    {
        nuint bytes = (nuint)Math.Max(1, shape.Count) * sizeof(float);
        bytes = (bytes + Alignment - 1) / Alignment * Alignment;
        var p = (float*)NativeMemory.AlignedAlloc(bytes, Alignment);
        if (p == null) throw new OutOfMemoryException($"cannot allocate a tensor of shape {shape}");
        if (bytes > 64 * 1024) GC.AddMemoryPressure((long)bytes);
        return new Tensor(p, shape, owns: true);
    }

    public static Tensor FromArray(ReadOnlySpan<float> values, Shape shape)
    {
        if (values.Length != shape.Count)
            throw new ArgumentException($"{values.Length} values for shape {shape} ({shape.Count} elements)", nameof(values));
        var t = Uninitialized(shape);
        values.CopyTo(t.Span);
        return t;
    }

    public static Tensor FromArray(float[] values, params int[] dims) => FromArray(values, Shape.FromSpan(dims));

    /// <summary>A tensor over memory it does not own (an arena's, or another tensor's).</summary>
    public static Tensor Borrow(float* data, Shape shape) => new(data, shape, owns: false);

    /// <summary>Re-points a pooled header at arena memory; used by <see cref="TensorArena"/> only.</summary>
    internal void Rebind(float* data, Shape shape)
    {
        _data = data;
        Shape = shape;
        Length = shape.Count;
        _ownsMemory = false;
        Grad = null;
        RequiresGrad = false;
        Name = null;
    }

    public Span<float> Span => new(_data, Length);

    public float[] ToArray() => Span.ToArray();

    /// <summary>Sets every element to zero (on the worker pool when the tensor is large: gradients of whole weight matrices).</summary>
    public void Clear() => ElementwiseKernels.Clear(_data, Length);

    public void Fill(float value) => new Span<float>(_data, Length).Fill(value);

    public void CopyFrom(Tensor source)
    {
        if (source.Length != Length) throw new ArgumentException($"copy of {source.Shape} into {Shape}");
        Buffer.MemoryCopy(source._data, _data, (long)Length * sizeof(float), (long)Length * sizeof(float));
    }

    public Tensor Clone()
    {
        var t = Uninitialized(Shape);
        t.CopyFrom(this);
        return t;
    }

    /// <summary>The same memory seen with another shape of the same element count (no copy, not owned).</summary>
    public Tensor Reshape(Shape shape)
    {
        if (shape.Count != Length) throw new ArgumentException($"cannot view {Shape} as {shape}");
        return new Tensor(_data, shape, owns: false);
    }

    public ref float this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)i >= (uint)Length) throw new IndexOutOfRangeException($"index {i} of a tensor of {Length} elements");
            return ref _data[i];
        }
    }

    public ref float this[int i, int j] => ref this[i * Shape[1] + j];

    /// <summary>Makes sure <see cref="Grad"/> exists (zeroed, owned) for a parameter.</summary>
    public Tensor EnsureGrad()
    {
        Grad ??= Zeros(Shape);
        return Grad;
    }

    public override string ToString() => $"Tensor{Shape}{(Name is null ? "" : " " + Name)}";

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~Tensor() => Free();

    private void Free()
    {
        if (_ownsMemory && _data != null)
        {
            NativeMemory.AlignedFree(_data);
            nuint bytes = (nuint)Math.Max(1, Length) * sizeof(float);
            if (bytes > 64 * 1024) GC.RemoveMemoryPressure((long)((bytes + Alignment - 1) / Alignment * Alignment));
        }
        _data = null;
        _ownsMemory = false;
    }
}
