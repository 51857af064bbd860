using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DroSharp.Tensors;

/// <summary>
/// A frozen weight matrix [rows, cols] stored as bfloat16 bits (row-major, 64-byte-aligned native
/// memory it owns): half the memory and bandwidth of a float32 <see cref="Tensor"/>. It takes no
/// gradient; <see cref="Ops.Linear(Tensor, BFloat16Matrix)"/> widens it to float32 inside the GEMM's
/// packing. Freed by <see cref="Dispose"/> or the finaliser.
/// </summary>
public sealed unsafe class BFloat16Matrix : IDisposable
{
    private ushort* _data;

    /// <summary>First element: <see cref="Rows"/>·<see cref="Cols"/> bfloat16 bit patterns, row-major.</summary>
    public ushort* Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _data;
    }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>[Rows, Cols].</summary>
    public Shape Shape => new(Rows, Cols);

    /// <summary>Rows·Cols.</summary>
    public int Length => Rows * Cols;

    /// <summary>Hugging Face parameter name (e.g. <c>model.layers.0.self_attn.q_proj.weight</c>).</summary>
    public string? Name { get; set; }

    private BFloat16Matrix(ushort* data, int rows, int cols)
    {
        _data = data;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>A matrix that owns fresh memory whose contents are undefined (fill it through <see cref="Span"/>).</summary>
    public static BFloat16Matrix Uninitialized(int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(rows), $"bfloat16 matrix [{rows}, {cols}]: extents must be non-negative with at most {int.MaxValue} elements");
        nuint bytes = (nuint)Math.Max(1, rows * cols) * sizeof(ushort);
        bytes = (bytes + Tensor.Alignment - 1) / Tensor.Alignment * Tensor.Alignment;
        var p = (ushort*)NativeMemory.AlignedAlloc(bytes, Tensor.Alignment);
        if (p == null) throw new OutOfMemoryException($"cannot allocate a bfloat16 matrix [{rows}, {cols}]");
        if (bytes > 64 * 1024) GC.AddMemoryPressure((long)bytes);
        return new BFloat16Matrix(p, rows, cols);
    }

    /// <summary>
    /// <paramref name="source"/> [rows, cols] rounded to bfloat16 (nearest, ties to even, NaN → 0x7FC0:
    /// see <see cref="BFloat16Conversion"/>); the name is carried over.
    /// </summary>
    public static BFloat16Matrix FromFloat32(Tensor source)
    {
        if (source.Shape.Rank != 2)
            throw new ArgumentException($"bfloat16 matrix from tensor {source.Shape}{(source.Name is null ? "" : " " + source.Name)}: expected rank 2 [rows, cols]", nameof(source));
        var m = Uninitialized(source.Shape[0], source.Shape[1]);
        BFloat16Conversion.Narrow(source.Span, m.Span);
        m.Name = source.Name;
        return m;
    }

    /// <summary>A float32 copy [Rows, Cols] (exact), owning its memory; the name is carried over.</summary>
    public Tensor ToFloat32()
    {
        var t = Tensor.Uninitialized(Shape);
        BFloat16Conversion.Widen(Span, t.Span);
        t.Name = Name;
        return t;
    }

    public Span<ushort> Span => new(_data, Length);

    public override string ToString() => $"BFloat16Matrix[{Rows}, {Cols}]{(Name is null ? "" : " " + Name)}";

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~BFloat16Matrix() => Free();

    private void Free()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        nuint bytes = (nuint)Math.Max(1, Length) * sizeof(ushort);
        bytes = (bytes + Tensor.Alignment - 1) / Tensor.Alignment * Tensor.Alignment;
        if (bytes > 64 * 1024) GC.RemoveMemoryPressure((long)bytes);
        _data = null;
    }
}
