using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using DroSharp.Tensors;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// Writes a safetensors file the way the reference's <c>serialize</c> does: tensors sorted by
/// dtype descending (largest alignment first) then by name (UTF-8 byte order), data packed back
/// to back, header <c>{"__metadata__":{…},"name":{"dtype","shape","data_offsets"},…}</c> padded with
/// spaces to a multiple of 8 bytes, <c>__metadata__</c> holding <c>"format":"pt"</c> plus the
/// caller's entries. The file is written to a temporary file and renamed over the target.
/// Tensors are referenced, not copied: they must not change until <see cref="Write"/> returns.
/// </summary>
public sealed unsafe class SafetensorsWriter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private sealed class Entry
    {
        public required string Name;
        public required byte[] NameUtf8;
        public required SafetensorsDtype Dtype;
        public required long[] Shape;
        public Tensor? Floats;
        public long[]? Integers;
        public long ByteLength => (Floats?.Length ?? Integers!.LongLength) * (Dtype.BitSize() / 8);
    }

    private readonly List<Entry> _entries = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <param name="addFormatMetadata">Add <c>"format": "pt"</c> to <c>__metadata__</c> (transformers
    /// writes it and checks it on load); without it and without other metadata the header has no
    /// <c>__metadata__</c> at all, like the reference called with <c>None</c>.</param>
    public SafetensorsWriter(bool addFormatMetadata = true)
    {
        if (addFormatMetadata) _metadata["format"] = "pt";
    }

    /// <summary>Adds a float32 tensor, stored as F32 (bit-exact), BF16 or F16 (rounded to nearest even).</summary>
    public SafetensorsWriter Add(string name, Tensor tensor, SafetensorsDtype dtype = SafetensorsDtype.F32)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (dtype is not (SafetensorsDtype.F32 or SafetensorsDtype.BF16 or SafetensorsDtype.F16))
            throw new ArgumentException($"{name}: float tensors are written as F32, BF16 or F16, not {dtype}", nameof(dtype));
        var shape = new long[tensor.Shape.Rank];
        for (int i = 0; i < shape.Length; i++) shape[i] = tensor.Shape[i];
        AddEntry(name, dtype, shape, tensor, null);
        return this;
    }

    /// <summary>Adds 64-bit integers (row-major, Π shape values) stored as I64.</summary>
    public SafetensorsWriter AddInt64(string name, long[] values, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"{name}: negative extent in shape [{string.Join(", ", shape)}]", nameof(shape));
            count = checked(count * d);
        }
        if (count != values.LongLength)
            throw new ArgumentException($"{name}: {values.LongLength} values for shape [{string.Join(", ", shape)}]", nameof(values));
        AddEntry(name, SafetensorsDtype.I64, (long[])shape.Clone(), null, values);
        return this;
    }

    /// <summary>Adds (or replaces) a <c>__metadata__</c> entry. <c>format</c> is <c>pt</c> unless set here.</summary>
    public SafetensorsWriter AddMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        CheckUtf8(key, "metadata key");
        CheckUtf8(value, "metadata value");
        _metadata[key] = value;
        return this;
    }

    public int Count => _entries.Count;

    /// <summary>Writes the file atomically.</summary>
    public void Write(string path) => AtomicFile.Write(path, WriteTo);

    /// <summary>Writes named tensors (each <see cref="Tensor.Name"/> set) to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<Tensor> tensors, SafetensorsDtype dtype = SafetensorsDtype.F32,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var w = new SafetensorsWriter();
        foreach (var t in tensors)
            w.Add(t.Name ?? throw new ArgumentException($"a tensor of shape {t.Shape} has no name", nameof(tensors)), t, dtype);
        if (metadata is not null)
            foreach (var (k, v) in metadata) w.AddMetadata(k, v);
        w.Write(path);
    }

    /// <summary>Writes tensors under the given names to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, SafetensorsDtype dtype = SafetensorsDtype.F32,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var w = new SafetensorsWriter();
        foreach (var (name, t) in tensors) w.Add(name, t, dtype);
        if (metadata is not null)
            foreach (var (k, v) in metadata) w.AddMetadata(k, v);
        w.Write(path);
    }

    private void AddEntry(string name, SafetensorsDtype dtype, long[] shape, Tensor? floats, long[]? integers)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "__metadata__") throw new ArgumentException("__metadata__ is reserved and cannot name a tensor", nameof(name));
        var utf8 = CheckUtf8(name, "tensor name");
        if (!_names.Add(name)) throw new ArgumentException($"the tensor name {name} is added twice", nameof(name));
        _entries.Add(new Entry { Name = name, NameUtf8 = utf8, Dtype = dtype, Shape = shape, Floats = floats, Integers = integers });
    }

    private static byte[] CheckUtf8(string s, string what)
    {
        try
        {
            return StrictUtf8.GetBytes(s);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"the {what} {s} is not valid Unicode (a lone surrogate)", e);
        }
    }

    /// <summary>The entries in file order: dtype descending, then name bytes ascending.</summary>
    private List<Entry> Ordered()
    {
        var list = new List<Entry>(_entries);
        list.Sort((a, b) =>
        {
            int c = b.Dtype.CompareTo(a.Dtype);
            return c != 0 ? c : a.NameUtf8.AsSpan().SequenceCompareTo(b.NameUtf8);
        });
        return list;
    }

    /// <summary>The padded header JSON for <paramref name="ordered"/>.</summary>
    private byte[] BuildHeader(List<Entry> ordered)
    {
        var sb = new StringBuilder(64 + 128 * ordered.Count);
        sb.Append('{');
        bool first = true;
        if (_metadata.Count > 0)
        {
            AppendJsonString(sb, "__metadata__");
            sb.Append(":{");
            bool firstKey = true;
            foreach (var (k, v) in _metadata)
            {
                if (!firstKey) sb.Append(',');
                firstKey = false;
                AppendJsonString(sb, k);
                sb.Append(':');
                AppendJsonString(sb, v);
            }
            sb.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var e in ordered)
        {
            if (!first) sb.Append(',');
            first = false;
            AppendJsonString(sb, e.Name);
            sb.Append(":{\"dtype\":\"").Append(e.Dtype.Token()).Append("\",\"shape\":[");
            sb.AppendJoin(',', e.Shape);
            long end = offset + e.ByteLength;
            sb.Append("],\"data_offsets\":[").Append(offset).Append(',').Append(end).Append("]}");
            offset = end;
        }
        sb.Append('}');
        int length = StrictUtf8.GetByteCount(sb.ToString());
        int padded = (length + 7) / 8 * 8;
        if (padded > SafetensorsHeader.MaxHeaderSize)
            throw new InvalidOperationException($"the header would be {padded} bytes, above the {SafetensorsHeader.MaxHeaderSize}-byte limit readers accept");
        sb.Append(' ', padded - length);
        return StrictUtf8.GetBytes(sb.ToString());
    }

    /// <summary>JSON string with serde_json's escaping: <c>"</c>, <c>\</c> and control characters only.</summary>
    private static void AppendJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20) sb.Append("\\u00").Append(((int)c).ToString("x2"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    private void WriteTo(Stream stream)
    {
        var ordered = Ordered();
        byte[] header = BuildHeader(ordered);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            foreach (var e in ordered) WriteData(stream, e, buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void WriteData(Stream stream, Entry e, byte[] buffer)
    {
        if (e.Integers is { } ints)
        {
            int per = buffer.Length / 8;
            for (long i = 0; i < ints.LongLength; i += per)
            {
                int n = (int)Math.Min(per, ints.LongLength - i);
                for (int j = 0; j < n; j++) BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(8 * j, 8), ints[i + j]);
                stream.Write(buffer, 0, 8 * n);
            }
            return;
        }
        var t = e.Floats!;
        if (e.Dtype == SafetensorsDtype.F32 && BitConverter.IsLittleEndian)
        {
            // Straight from tensor memory, in pieces a span can hold.
            long bytes = (long)t.Length * sizeof(float);
            byte* p = (byte*)t.Data;
            for (long o = 0; o < bytes; o += 1 << 30)
                stream.Write(new ReadOnlySpan<byte>(p + o, (int)Math.Min(1 << 30, bytes - o)));
            return;
        }
        int size = e.Dtype.BitSize() / 8;
        int chunk = buffer.Length / size;
        for (int i = 0; i < t.Length; i += chunk)
        {
            int n = Math.Min(chunk, t.Length - i);
            var src = new ReadOnlySpan<float>(t.Data + i, n);
            var dst = buffer.AsSpan(0, n * size);
            switch (e.Dtype)
            {
                case SafetensorsDtype.F32: FloatConversions.ToF32(src, dst); break;
                case SafetensorsDtype.BF16: FloatConversions.ToBF16(src, dst); break;
                default: FloatConversions.ToF16(src, dst); break;
            }
            stream.Write(dst);
        }
    }
}
