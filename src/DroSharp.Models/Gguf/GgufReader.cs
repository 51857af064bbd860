using System.Buffers.Binary;
using System.Text;
using DroSharp.Models.Checkpoints;
using Microsoft.Win32.SafeHandles;

namespace DroSharp.Models.Gguf;

/// <summary>
/// An open GGUF file (v2 or v3, little-endian). <see cref="Open"/> reads and validates the header, every
/// metadata pair and every tensor info before returning, with checked arithmetic: counts and lengths are
/// bounded by the bytes left in the file, keys and tensor names are unique, types are known, rows are whole
/// blocks, offsets are the aligned running sum that ggml requires, and every tensor lies inside the file.
/// A malformed file gives a <see cref="CheckpointFormatException"/> naming the field at fault. Tensor data is
/// read on demand with positioned reads.
/// </summary>
public sealed class GgufReader : IDisposable
{
    /// <summary>"GGUF" read as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;

    public const string AlignmentKey = "general.alignment";
    public const string ArchitectureKey = "general.architecture";

    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;

    private const long MaxStringBytes = 1L << 30;
    private const long MaxArrayElements = 1L << 30;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, GgufValue> _byKey;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufReader(string path, SafeFileHandle handle, long length, uint version, int alignment,
        List<KeyValuePair<string, GgufValue>> metadata, List<GgufTensorInfo> tensors, long dataOffset)
    {
        FilePath = path;
        _handle = handle;
        FileLength = length;
        Version = version;
        Alignment = alignment;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        _byKey = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string FilePath { get; }
    public long FileLength { get; }
    public uint Version { get; }

    /// <summary><c>general.alignment</c>, or 32 when absent.</summary>
    public int Alignment { get; }

    /// <summary>The metadata pairs in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata { get; }

    /// <summary>The tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Absolute file offset of the data section.</summary>
    public long DataOffset { get; }

    /// <summary><c>general.architecture</c>, or null when the file has none.</summary>
    public string? Architecture => TryGetValue(ArchitectureKey, out var v) && v.Type == GgufValueType.String ? v.AsString() : null;

    public bool TryGetValue(string key, out GgufValue value) => _byKey.TryGetValue(key, out value!);

    public GgufValue GetValue(string key) =>
        _byKey.TryGetValue(key, out var v) ? v : throw new CheckpointFormatException(FilePath, key, "no such metadata key");

    public bool TryGetTensor(string name, out GgufTensorInfo info) => _byName.TryGetValue(name, out info!);

    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new CheckpointFormatException(FilePath, name, "no such tensor in the file");

    public static GgufReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            return Parse(path, handle, length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static GgufReader Parse(string path, SafeFileHandle handle, long length)
    {
        var r = new Cursor(path, handle, length);
        uint magic = r.U32("magic");
        if (magic != Magic)
            throw new CheckpointFormatException(path, "magic",
                $"the file does not start with \"GGUF\" (found bytes {magic & 0xFF:X2} {(magic >> 8) & 0xFF:X2} {(magic >> 16) & 0xFF:X2} {magic >> 24:X2}); it is not a GGUF file");
        uint version = r.U32("version");
        if (version == 1) throw new CheckpointFormatException(path, "version", "GGUF version 1 is not supported (llama.cpp dropped it); convert the file again");
        if (version is 0 or > GgufWriter.Version)
            throw new CheckpointFormatException(path, "version",
                (version & 0xFFFF) == 0
                    ? $"version {version} looks byte-swapped: big-endian GGUF files are not supported"
                    : $"version {version} is not supported (2 and 3 are)");
        long tensorCount = r.I64("tensor_count");
        long kvCount = r.I64("metadata_kv_count");
        // Each tensor info takes ≥ 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes, each pair ≥ 8 + 4 + 1.
        if (tensorCount < 0 || tensorCount > r.Remaining / 24)
            throw new CheckpointFormatException(path, "tensor_count", $"{tensorCount} tensors cannot fit in the {r.Remaining} bytes left in the file");
        if (kvCount < 0 || kvCount > r.Remaining / 13)
            throw new CheckpointFormatException(path, "metadata_kv_count", $"{kvCount} metadata pairs cannot fit in the {r.Remaining} bytes left in the file");

        var metadata = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(kvCount, 4096));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            string where = $"metadata pair {i}";
            string key = r.String(where + " key");
            if (key.Length == 0) throw new CheckpointFormatException(path, where, "the key is empty");
            if (!keys.Add(key)) throw new CheckpointFormatException(path, key, $"the key appears twice (again as {where})");
            var type = (GgufValueType)r.U32(key + " type");
            metadata.Add(new(key, ReadValue(r, key, type)));
        }

        int alignment = GgufWriter.DefaultAlignment;
        var alignmentValue = metadata.FirstOrDefault(kv => kv.Key == AlignmentKey).Value;
        if (alignmentValue is not null)
        {
            if (alignmentValue.Type != GgufValueType.UInt32)
                throw new CheckpointFormatException(path, AlignmentKey, $"must be a u32, found {alignmentValue.Describe()}");
            uint a = (uint)alignmentValue.RawValue;
            if (a == 0 || (a & (a - 1)) != 0 || a > 1u << 30)
                throw new CheckpointFormatException(path, AlignmentKey, $"{a} is not a power of 2 (up to 2^30)");
            alignment = (int)a;
        }

        var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 65536));
        var names = new HashSet<string>(StringComparer.Ordinal);
        var infos = new List<(string Name, long[] Dims, GgufTensorType Type, ulong Offset, long Bytes, long Count)>();
        for (long i = 0; i < tensorCount; i++)
        {
            string where = $"tensor {i}";
            string name = r.String(where + " name");
            if (name.Length == 0) throw new CheckpointFormatException(path, where, "the tensor name is empty");
            if (Encoding.UTF8.GetByteCount(name) > GgufWriter.MaxTensorNameBytes)
                throw new CheckpointFormatException(path, name, $"the tensor name is longer than {GgufWriter.MaxTensorNameBytes} bytes (ggml's limit)");
            if (!names.Add(name)) throw new CheckpointFormatException(path, name, $"the tensor name appears twice (again as {where})");
            uint nDims = r.U32(name + " n_dims");
            if (nDims > MaxDimensions)
                throw new CheckpointFormatException(path, name, $"{nDims} dimensions; ggml allows at most {MaxDimensions}");
            var dims = new long[nDims];
            long count = 1;
            for (int d = 0; d < nDims; d++)
            {
                dims[d] = r.I64($"{name} ne[{d}]");
                if (dims[d] < 0) throw new CheckpointFormatException(path, name, $"dimension ne[{d}] = {dims[d]} is negative");
                if (dims[d] != 0 && count > long.MaxValue / dims[d])
                    throw new CheckpointFormatException(path, name, $"the element count of [{string.Join(", ", dims.Take(d + 1))}] overflows 64 bits");
                count *= dims[d];
            }
            uint typeCode = r.U32(name + " type");
            var type = (GgufTensorType)typeCode;
            if (!GgufTensorTypes.TryGetLayout(type, out int block, out int blockBytes))
                throw new CheckpointFormatException(path, name, $"unknown tensor type {typeCode}");
            long rowLength = nDims == 0 ? 1 : dims[0];
            if (rowLength % block != 0)
                throw new CheckpointFormatException(path, name,
                    $"rows of {rowLength} elements are not a whole number of {GgufTensorTypes.Name(type)} blocks of {block}");
            long blocks = count / block;
            if (blocks > long.MaxValue / blockBytes)
                throw new CheckpointFormatException(path, name, $"the byte size of {count} {GgufTensorTypes.Name(type)} elements overflows 64 bits");
            ulong offset = r.U64(name + " offset");
            infos.Add((name, dims, type, offset, blocks * blockBytes, count));
        }

        long dataOffset = r.Position;
        if (tensorCount > 0) dataOffset = AlignUp(dataOffset, alignment, path, "data section");
        // ggml requires each offset to be the aligned running sum of the sizes before it (no gaps, no reordering).
        long expected = 0;
        foreach (var (name, dims, type, offset, bytes, count) in infos)
        {
            if (offset != (ulong)expected)
                throw new CheckpointFormatException(path, name,
                    $"data offset {offset} but {expected} expected (tensor data must be contiguous, in info order, each aligned to {alignment} bytes)");
            if (dataOffset > length || expected > length - dataOffset || bytes > length - dataOffset - expected)
                throw new CheckpointFormatException(path, name,
                    $"the data [{expected}, {expected + bytes}) after the data section start {dataOffset} runs past the end of the {length}-byte file");
            tensors.Add(new GgufTensorInfo(name, dims, type, expected, bytes, count));
            expected = AlignUp(expected + bytes, alignment, path, name);
        }
        return new GgufReader(path, handle, length, version, alignment, metadata, tensors, dataOffset);
    }

    private static long AlignUp(long n, int alignment, string path, string what)
    {
        if (n > long.MaxValue - alignment) throw new CheckpointFormatException(path, what, "offset overflows 64 bits");
        return (n + alignment - 1) / alignment * alignment;
    }

    private static GgufValue ReadValue(Cursor r, string key, GgufValueType type)
    {
        if (type != GgufValueType.Array) return ReadScalar(r, key, type);
        var elementType = (GgufValueType)r.U32(key + " array element type");
        ulong n = r.U64(key + " array length");
        if (elementType == GgufValueType.Array)
            throw new CheckpointFormatException(r.Path, key, "arrays of arrays are not supported");
        int minSize = ScalarSize(elementType, r.Path, key);
        if (n > (ulong)MaxArrayElements || (long)n > r.Remaining / minSize)
            throw new CheckpointFormatException(r.Path, key, $"an array of {n} {GgufValue.TypeName(elementType)} cannot fit in the {r.Remaining} bytes left in the file");
        int count = (int)n;
        switch (elementType)
        {
            case GgufValueType.String:
            {
                var a = new string[count];
                for (int i = 0; i < count; i++) a[i] = r.String($"{key}[{i}]");
                return GgufValue.Array(a);
            }
            case GgufValueType.Bool:
            {
                var a = new bool[count];
                for (int i = 0; i < count; i++) a[i] = r.Bool($"{key}[{i}]");
                return GgufValue.Array(a);
            }
            default:
            {
                byte[] bytes = new byte[checked(count * minSize)];
                r.ReadExactly(bytes, key);
                return elementType switch
                {
                    GgufValueType.UInt8 => GgufValue.Array(bytes),
                    GgufValueType.Int8 => GgufValue.Array(Cast<sbyte>(bytes, count, 1, (b, i) => (sbyte)b[i])),
                    GgufValueType.UInt16 => GgufValue.Array(Cast(bytes, count, 2, (b, i) => BinaryPrimitives.ReadUInt16LittleEndian(b[i..]))),
                    GgufValueType.Int16 => GgufValue.Array(Cast(bytes, count, 2, (b, i) => BinaryPrimitives.ReadInt16LittleEndian(b[i..]))),
                    GgufValueType.UInt32 => GgufValue.Array(Cast(bytes, count, 4, (b, i) => BinaryPrimitives.ReadUInt32LittleEndian(b[i..]))),
                    GgufValueType.Int32 => GgufValue.Array(Cast(bytes, count, 4, (b, i) => BinaryPrimitives.ReadInt32LittleEndian(b[i..]))),
                    GgufValueType.Float32 => GgufValue.Array(Cast(bytes, count, 4, (b, i) => BinaryPrimitives.ReadSingleLittleEndian(b[i..]))),
                    GgufValueType.UInt64 => GgufValue.Array(Cast(bytes, count, 8, (b, i) => BinaryPrimitives.ReadUInt64LittleEndian(b[i..]))),
                    GgufValueType.Int64 => GgufValue.Array(Cast(bytes, count, 8, (b, i) => BinaryPrimitives.ReadInt64LittleEndian(b[i..]))),
                    GgufValueType.Float64 => GgufValue.Array(Cast(bytes, count, 8, (b, i) => BinaryPrimitives.ReadDoubleLittleEndian(b[i..]))),
                    _ => throw new CheckpointFormatException(r.Path, key, $"unknown array element type {(uint)elementType}"),
                };
            }
        }
    }

    private delegate T Decode<out T>(ReadOnlySpan<byte> bytes, int offset);

    private static T[] Cast<T>(byte[] bytes, int count, int size, Decode<T> decode)
    {
        var a = new T[count];
        for (int i = 0; i < count; i++) a[i] = decode(bytes, i * size);
        return a;
    }

    private static int ScalarSize(GgufValueType type, string path, string key) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        GgufValueType.String => 8, // at least its length prefix
        _ => throw new CheckpointFormatException(path, key, $"unknown value type {(uint)type}"),
    };

    private static GgufValue ReadScalar(Cursor r, string key, GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => GgufValue.UInt8(r.Bytes(1, key)[0]),
        GgufValueType.Int8 => GgufValue.Int8((sbyte)r.Bytes(1, key)[0]),
        GgufValueType.UInt16 => GgufValue.UInt16(BinaryPrimitives.ReadUInt16LittleEndian(r.Bytes(2, key))),
        GgufValueType.Int16 => GgufValue.Int16(BinaryPrimitives.ReadInt16LittleEndian(r.Bytes(2, key))),
        GgufValueType.UInt32 => GgufValue.UInt32(r.U32(key)),
        GgufValueType.Int32 => GgufValue.Int32(BinaryPrimitives.ReadInt32LittleEndian(r.Bytes(4, key))),
        GgufValueType.Float32 => GgufValue.Float32(BinaryPrimitives.ReadSingleLittleEndian(r.Bytes(4, key))),
        GgufValueType.Bool => GgufValue.Bool(r.Bool(key)),
        GgufValueType.String => GgufValue.String(r.String(key)),
        GgufValueType.UInt64 => GgufValue.UInt64(r.U64(key)),
        GgufValueType.Int64 => GgufValue.Int64(r.I64(key)),
        GgufValueType.Float64 => GgufValue.Float64(BinaryPrimitives.ReadDoubleLittleEndian(r.Bytes(8, key))),
        _ => throw new CheckpointFormatException(r.Path, key, $"unknown value type {(uint)type}"),
    };

    /// <summary>Sequential reads with the bytes left always known, so no length read from the file is trusted.</summary>
    private sealed class Cursor(string path, SafeFileHandle handle, long length)
    {
        private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
        private readonly byte[] _scratch = new byte[8];
        private readonly byte[] _buffer = new byte[1 << 16];
        private long _bufferStart;
        private int _bufferLength;

        public string Path => path;
        public long Position { get; private set; }
        public long Remaining => length - Position;

        public void ReadExactly(Span<byte> destination, string field)
        {
            if (destination.Length > Remaining)
                throw new CheckpointFormatException(path, field, $"the file ends at byte {length}: {destination.Length} bytes needed at offset {Position}");
            while (!destination.IsEmpty)
            {
                long inBuffer = Position - _bufferStart;
                if (inBuffer < 0 || inBuffer >= _bufferLength)
                {
                    _bufferStart = Position;
                    _bufferLength = RandomAccess.Read(handle, _buffer, Position);
                    if (_bufferLength == 0)
                        throw new CheckpointFormatException(path, field, $"the file ended at byte {Position} (changed while reading?)");
                    inBuffer = 0;
                }
                int n = (int)Math.Min(destination.Length, _bufferLength - inBuffer);
                _buffer.AsSpan((int)inBuffer, n).CopyTo(destination);
                destination = destination[n..];
                Position += n;
            }
        }

        public ReadOnlySpan<byte> Bytes(int n, string field)
        {
            var span = _scratch.AsSpan(0, n);
            ReadExactly(span, field);
            return span;
        }

        public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, field));
        public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, field));
        public long I64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8, field));

        public bool Bool(string field)
        {
            byte b = Bytes(1, field)[0];
            return b switch
            {
                0 => false,
                1 => true,
                _ => throw new CheckpointFormatException(path, field, $"a bool must be 0 or 1, found {b}"),
            };
        }

        public string String(string field)
        {
            ulong n = U64(field + " length");
            if (n > (ulong)MaxStringBytes || (long)n > Remaining)
                throw new CheckpointFormatException(path, field, $"a string of {n} bytes cannot fit in the {Remaining} bytes left in the file");
            if (n == 0) return "";
            byte[] bytes = new byte[n];
            ReadExactly(bytes, field);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new CheckpointFormatException(path, field, $"the string at offset {Position - (long)n} is not valid UTF-8");
            }
        }
    }

    /// <summary>Copies a tensor's stored bytes into <paramref name="destination"/> (exactly <see cref="GgufTensorInfo.ByteLength"/> bytes).</summary>
    public void ReadTensorBytes(string name, Span<byte> destination)
    {
        var t = GetTensor(name);
        if (destination.Length != t.ByteLength)
            throw new ArgumentException($"{name} is {t.ByteLength} bytes, destination has {destination.Length}", nameof(destination));
        long at = DataOffset + t.Offset;
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, destination[..Math.Min(destination.Length, 1 << 30)], at);
            if (n == 0) throw new CheckpointFormatException(FilePath, name, $"the file ended at byte {at} while reading this tensor (truncated after opening?)");
            destination = destination[n..];
            at += n;
        }
    }

    public byte[] ReadTensorBytes(string name)
    {
        var t = GetTensor(name);
        if (t.ByteLength > Array.MaxLength) throw new CheckpointFormatException(FilePath, name, $"{t.ByteLength} bytes are too many for one array");
        var bytes = new byte[t.ByteLength];
        ReadTensorBytes(name, bytes);
        return bytes;
    }

    /// <summary>Decodes an F32, F16, BF16 or Q8_0 tensor to float32, row-major in <see cref="GgufTensorInfo.Shape"/> order.</summary>
    public float[] ReadTensorFloats(string name)
    {
        var t = GetTensor(name);
        if (!GgufTensorTypes.IsFloatCodec(t.Type))
            throw new CheckpointFormatException(FilePath, name, $"{GgufTensorTypes.Name(t.Type)} cannot be decoded (F32, F16, BF16 and Q8_0 can)");
        if (t.ElementCount > Array.MaxLength) throw new CheckpointFormatException(FilePath, name, $"{t.ElementCount} elements are too many for one array");
        byte[] bytes = ReadTensorBytes(name);
        var values = new float[t.ElementCount];
        switch (t.Type)
        {
            case GgufTensorType.F32: FloatConversions.FromF32(bytes, values); break;
            case GgufTensorType.F16: FloatConversions.FromF16(bytes, values); break;
            case GgufTensorType.BF16: FloatConversions.FromBF16(bytes, values); break;
            default: GgufQ8_0.Dequantize(bytes, values); break;
        }
        return values;
    }

    /// <summary>
    /// A listing for people (what <c>dro gguf inspect</c> prints): a header line, one line per metadata pair
    /// ("key type value", arrays by their first <paramref name="maxArrayElements"/> elements), then one line per
    /// tensor ("name type [shape] bytes").
    /// </summary>
    public IEnumerable<string> Describe(int maxArrayElements = 8)
    {
        yield return $"{FilePath}: GGUF v{Version}, {FileLength} bytes, alignment {Alignment}, {Metadata.Count} metadata pairs, {Tensors.Count} tensors";
        foreach (var (key, value) in Metadata)
            yield return $"{key} {value.Describe()} = {value.ToDisplayString(maxArrayElements)}";
        foreach (var t in Tensors)
            yield return $"{t.Name} {GgufTensorTypes.Name(t.Type)} [{string.Join(", ", t.Shape)}] {t.ByteLength} bytes";
    }

    public override string ToString() => $"{FilePath} (GGUF v{Version}, {Metadata.Count} keys, {Tensors.Count} tensors)";

    public void Dispose() => _handle.Dispose();
}
