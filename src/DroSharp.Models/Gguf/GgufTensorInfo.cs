namespace DroSharp.Models.Gguf;

/// <summary>
/// One tensor of a GGUF file. GGUF stores dimensions innermost first (<c>ne[0]</c> is the row length);
/// <see cref="Shape"/> gives them outermost first, as numpy, safetensors and DroSharp do, so a
/// [out, in] weight matrix has <c>Dimensions = [in, out]</c> and <c>Shape = [out, in]</c>.
/// </summary>
public sealed class GgufTensorInfo
{
    private readonly long[] _dimensions;

    internal GgufTensorInfo(string name, long[] dimensions, GgufTensorType type, long offset, long byteLength, long elementCount)
    {
        Name = name;
        _dimensions = dimensions;
        Type = type;
        Offset = offset;
        ByteLength = byteLength;
        ElementCount = elementCount;
    }

    public string Name { get; }

    /// <summary><c>ne[0..n_dims)</c> as stored: innermost (row length) first.</summary>
    public IReadOnlyList<long> Dimensions => _dimensions;

    /// <summary>The dimensions outermost first (the reverse of <see cref="Dimensions"/>).</summary>
    public IReadOnlyList<long> Shape => _dimensions.Reverse().ToArray();

    public GgufTensorType Type { get; }

    /// <summary>Byte offset of the data from the start of the data section (a multiple of the alignment).</summary>
    public long Offset { get; }

    public long ByteLength { get; }

    public long ElementCount { get; }

    /// <summary>Elements per row: <c>ne[0]</c>, or 1 for a 0-dimensional tensor.</summary>
    public long RowLength => _dimensions.Length == 0 ? 1 : _dimensions[0];

    public override string ToString() =>
        $"{Name} {GgufTensorTypes.Name(Type)} [{string.Join(", ", Shape)}]";
}
