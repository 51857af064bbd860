using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.Gguf;

/// <summary>
/// Fills <paramref name="destination"/> with rows <c>[firstRow, firstRow + destination.Length / rowLength)</c>
/// of a tensor, row-major, as float32.
/// </summary>
public delegate void GgufRowSource(long firstRow, Span<float> destination);

/// <summary>
/// Writes a GGUF v3 file: header, metadata, tensor infos, then each tensor's data aligned to
/// <see cref="Alignment"/> bytes (<c>general.alignment</c>, written when not the default 32).
/// Tensors are declared up front with their shape and type and produced one chunk of rows at a time
/// while the file is written, so a model of any size streams through a few MB of memory.
/// <see cref="Write"/> is atomic (temporary file, then rename).
/// </summary>
public sealed class GgufWriter
{
    public const uint Version = 3;
    public const int DefaultAlignment = 32;

    /// <summary>ggml's GGML_MAX_NAME is 64 bytes including the terminating zero.</summary>
    public const int MaxTensorNameBytes = 63;

    private const int ChunkFloats = 1 << 20;

    private sealed class Entry
    {
        public required string Name;
        public required long[] Shape;
        public required GgufTensorType Type;
        public required long ByteLength;
        public GgufRowSource? Rows;
        public ReadOnlyMemory<byte> Raw;
        public long RowLength => Shape.Length == 0 ? 1 : Shape[^1];
        public long RowCount => Shape.Length <= 1 ? 1 : Shape[..^1].Aggregate(1L, (a, b) => checked(a * b));
    }

    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<Entry> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    public GgufWriter(int alignment = DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), $"alignment must be a power of 2, got {alignment}");
        Alignment = alignment;
    }

    public int Alignment { get; }

    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    public int TensorCount => _tensors.Count;

    /// <summary>Adds a metadata pair; keys are unique. <c>general.alignment</c> is written by the writer itself.</summary>
    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key == GgufReader.AlignmentKey)
            throw new ArgumentException($"{GgufReader.AlignmentKey} is set by the GgufWriter constructor", nameof(key));
        if (!_keys.Add(key)) throw new ArgumentException($"metadata key {key} was already added", nameof(key));
        _metadata.Add(new(key, value));
        return this;
    }

    public GgufWriter AddString(string key, string value) => Add(key, GgufValue.String(value));
    public GgufWriter AddUInt32(string key, uint value) => Add(key, GgufValue.UInt32(value));
    public GgufWriter AddInt32(string key, int value) => Add(key, GgufValue.Int32(value));
    public GgufWriter AddFloat32(string key, float value) => Add(key, GgufValue.Float32(value));
    public GgufWriter AddBool(string key, bool value) => Add(key, GgufValue.Bool(value));

    public bool ContainsKey(string key) => _keys.Contains(key) || key == GgufReader.AlignmentKey;

    /// <summary>
    /// Declares a tensor of <paramref name="shape"/> (outermost first; the last extent is the row) stored as
    /// <paramref name="type"/> (F32, F16, BF16 or Q8_0), whose float32 rows <paramref name="rows"/> supplies while writing.
    /// </summary>
    public GgufWriter AddTensor(string name, IReadOnlyList<long> shape, GgufTensorType type, GgufRowSource rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (!GgufTensorTypes.IsFloatCodec(type))
            throw new ArgumentException($"{name}: cannot encode float32 data as {GgufTensorTypes.Name(type)} (F32, F16, BF16 and Q8_0 can be written)", nameof(type));
        var e = NewEntry(name, shape, type);
        e.Rows = rows;
        _tensors.Add(e);
        _tensorNames.Add(name);
        return this;
    }

    /// <summary>Declares a tensor from float32 values held in memory (row-major, <paramref name="shape"/> outermost first).</summary>
    public GgufWriter AddTensor(string name, IReadOnlyList<long> shape, GgufTensorType type, ReadOnlyMemory<float> values)
    {
        long count = shape.Aggregate(1L, (a, b) => checked(a * b));
        if (values.Length != count)
            throw new ArgumentException($"{name}: shape [{string.Join(", ", shape)}] has {count} elements, {values.Length} values given", nameof(values));
        long rowLength = shape.Count == 0 ? 1 : shape[^1];
        return AddTensor(name, shape, type, (first, dst) => values.Span.Slice(checked((int)(first * rowLength)), dst.Length).CopyTo(dst));
    }

    /// <summary>Declares a tensor whose bytes are already encoded as <paramref name="type"/> (any type with a known block layout).</summary>
    public GgufWriter AddEncodedTensor(string name, IReadOnlyList<long> shape, GgufTensorType type, ReadOnlyMemory<byte> data)
    {
        var e = NewEntry(name, shape, type);
        if (data.Length != e.ByteLength)
            throw new ArgumentException($"{name}: {GgufTensorTypes.Name(type)} [{string.Join(", ", shape)}] is {e.ByteLength} bytes, {data.Length} given", nameof(data));
        e.Raw = data;
        _tensors.Add(e);
        _tensorNames.Add(name);
        return this;
    }

    private Entry NewEntry(string name, IReadOnlyList<long> shape, GgufTensorType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (Encoding.UTF8.GetByteCount(name) > MaxTensorNameBytes)
            throw new ArgumentException($"tensor name {name} is longer than {MaxTensorNameBytes} bytes (ggml's limit)", nameof(name));
        if (_tensorNames.Contains(name)) throw new ArgumentException($"tensor {name} was already added", nameof(name));
        if (shape.Count > GgufReader.MaxDimensions)
            throw new ArgumentException($"{name}: {shape.Count} dimensions, ggml allows at most {GgufReader.MaxDimensions}", nameof(shape));
        if (shape.Any(d => d < 0)) throw new ArgumentException($"{name}: negative extent in [{string.Join(", ", shape)}]", nameof(shape));
        if (!GgufTensorTypes.TryGetLayout(type, out int block, out _))
            throw new ArgumentException($"{name}: unknown tensor type {(uint)type}", nameof(type));
        long rowLength = shape.Count == 0 ? 1 : shape[^1];
        if (rowLength % block != 0)
            throw new ArgumentException($"{name}: rows of {rowLength} elements are not whole {GgufTensorTypes.Name(type)} blocks of {block}", nameof(shape));
        long count = shape.Aggregate(1L, (a, b) => checked(a * b));
        return new Entry { Name = name, Shape = shape.ToArray(), Type = type, ByteLength = GgufTensorTypes.ByteLength(type, rowLength, count) };
    }

    /// <summary>Writes the file atomically: nothing appears at <paramref name="path"/> unless the whole file was written.</summary>
    public void Write(string path) => AtomicFile.Write(path, WriteTo);

    /// <summary>Writes the file to <paramref name="stream"/> from its current position.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var output = new CountingStream(stream);
        var w = new BinaryWriter(output, new UTF8Encoding(false), leaveOpen: true);
        var metadata = new List<KeyValuePair<string, GgufValue>>(_metadata);
        if (Alignment != DefaultAlignment) metadata.Add(new(GgufReader.AlignmentKey, GgufValue.UInt32((uint)Alignment)));

        w.Write(GgufReader.Magic);
        w.Write(Version);
        w.Write((long)_tensors.Count);
        w.Write((long)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            WriteValue(w, value);
        }
        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            for (int i = t.Shape.Length - 1; i >= 0; i--) w.Write(t.Shape[i]);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = checked(offset + Pad(t.ByteLength));
        }
        w.Flush();
        // gguf.cpp seeks to the next multiple of the alignment after the infos only when there are tensors.
        if (_tensors.Count > 0) WritePadding(output);
        foreach (var t in _tensors)
        {
            long start = output.Position;
            if (t.Rows is not null) WriteRows(output, t);
            else output.Write(t.Raw.Span);
            long written = output.Position - start;
            if (written != t.ByteLength)
                throw new InvalidOperationException($"{t.Name}: wrote {written} bytes, expected {t.ByteLength}");
            WritePadding(output);
        }
        output.Flush();
    }

    private long Pad(long n) => checked((n + Alignment - 1) / Alignment * Alignment);

    private void WritePadding(CountingStream output)
    {
        long pad = Pad(output.Position) - output.Position;
        Span<byte> zeros = stackalloc byte[Alignment <= 256 ? Alignment : 256];
        zeros.Clear();
        while (pad > 0)
        {
            int n = (int)Math.Min(pad, zeros.Length);
            output.Write(zeros[..n]);
            pad -= n;
        }
    }

    private static void WriteRows(Stream output, Entry t)
    {
        long rowLength = t.RowLength;
        long rows = t.RowCount;
        if (rowLength == 0 || rows == 0) return;
        if (rowLength > Array.MaxLength) throw new InvalidOperationException($"{t.Name}: a row of {rowLength} elements is too long");
        int rowsPerChunk = (int)Math.Max(1, Math.Min(rows, ChunkFloats / rowLength));
        int floats = checked((int)(rowsPerChunk * rowLength));
        GgufTensorTypes.TryGetLayout(t.Type, out int block, out int blockBytes);
        float[] buffer = ArrayPool<float>.Shared.Rent(floats);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(checked(floats / block * blockBytes));
        try
        {
            for (long first = 0; first < rows; first += rowsPerChunk)
            {
                int n = (int)Math.Min(rowsPerChunk, rows - first);
                var values = buffer.AsSpan(0, checked((int)(n * rowLength)));
                t.Rows!(first, values);
                var encoded = bytes.AsSpan(0, values.Length / block * blockBytes);
                switch (t.Type)
                {
                    case GgufTensorType.F32: FloatConversions.ToF32(values, encoded); break;
                    case GgufTensorType.F16: FloatConversions.ToF16(values, encoded); break;
                    case GgufTensorType.BF16: FloatConversions.ToBF16(values, encoded); break;
                    case GgufTensorType.Q8_0: GgufQ8_0.Quantize(values, encoded); break;
                    default: throw new InvalidOperationException($"{t.Name}: cannot encode {t.Type}");
                }
                output.Write(encoded);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)b.Length);
        w.Write(b);
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        w.Write((uint)value.Type);
        if (!value.IsArray)
        {
            WriteScalar(w, value.RawValue);
            return;
        }
        w.Write((uint)value.ElementType);
        var array = (Array)value.RawValue;
        w.Write((ulong)array.LongLength);
        foreach (object element in array) WriteScalar(w, element);
    }

    private static void WriteScalar(BinaryWriter w, object v)
    {
        switch (v)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case float x: w.Write(x); break;
            case bool x: w.Write(x ? (byte)1 : (byte)0); break;
            case string x: WriteString(w, x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case double x: w.Write(x); break;
            default: throw new InvalidOperationException($"cannot write a {v.GetType().Name} as a GGUF value");
        }
    }

    /// <summary>Counts the bytes written, for offsets and padding, on streams that cannot report a position.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _position;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _position;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            _position += buffer.Length;
        }
    }
}
