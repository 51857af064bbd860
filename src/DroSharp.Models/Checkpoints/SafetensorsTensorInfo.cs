using DroSharp.Tensors;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// One validated header entry: dtype, shape and the byte range [DataBegin, DataEnd) relative to
/// the start of the data section (the reference's <c>data_offsets</c>).
/// </summary>
public sealed class SafetensorsTensorInfo
{
    private readonly long[] _shape;

    internal SafetensorsTensorInfo(string name, SafetensorsDtype dtype, long[] shape, long dataBegin, long dataEnd, long elementCount)
    {
        Name = name;
        Dtype = dtype;
        _shape = shape;
        DataBegin = dataBegin;
        DataEnd = dataEnd;
        ElementCount = elementCount;
    }

    public string Name { get; }

    public SafetensorsDtype Dtype { get; }

    /// <summary>Extents, outermost first; empty for a 0-rank scalar.</summary>
    public IReadOnlyList<long> Shape => _shape;

    public int Rank => _shape.Length;

    /// <summary>Product of the extents (1 for a scalar, 0 for an empty tensor).</summary>
    public long ElementCount { get; }

    public long DataBegin { get; }

    public long DataEnd { get; }

    public long ByteLength => DataEnd - DataBegin;

    /// <summary>True when <paramref name="shape"/> has the same rank and extents.</summary>
    public bool ShapeEquals(Shape shape)
    {
        if (shape.Rank != _shape.Length) return false;
        for (int i = 0; i < _shape.Length; i++)
            if (shape[i] != _shape[i]) return false;
        return true;
    }

    /// <summary>
    /// The shape as a DroSharp <see cref="Tensors.Shape"/>, or null with a reason when it does not
    /// fit one (rank above 4, or more than 2^31−1 elements).
    /// </summary>
    public bool TryGetTensorShape(out Shape shape, out string? reason)
    {
        shape = default;
        if (_shape.Length > Tensors.Shape.MaxRank)
        {
            reason = $"rank {_shape.Length} is more than the {Tensors.Shape.MaxRank} a DroSharp tensor supports";
            return false;
        }
        if (ElementCount > int.MaxValue || _shape.Any(d => d > int.MaxValue))
        {
            reason = $"shape {ShapeString} has more than 2^31-1 elements";
            return false;
        }
        Span<int> dims = stackalloc int[_shape.Length];
        for (int i = 0; i < dims.Length; i++) dims[i] = (int)_shape[i];
        shape = Tensors.Shape.FromSpan(dims);
        reason = null;
        return true;
    }

    public string ShapeString => "[" + string.Join(", ", _shape) + "]";

    public override string ToString() => $"{Name} {Dtype} {ShapeString} [{DataBegin}, {DataEnd})";
}
