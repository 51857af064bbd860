using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// The validated header of a safetensors file:
/// <code>
/// [u64 LE N][N bytes UTF-8 JSON, may be space padded][data section: every tensor, back to back]
/// </code>
/// Validation follows the reference parser (<c>safetensors/src/tensor.rs</c>, <c>read_metadata</c> and
/// <c>Metadata::validate</c>): N ≤ 100,000,000; 8 + N within the file; UTF-8; a JSON object
/// (leading and trailing JSON whitespace accepted, as serde_json does); optional
/// <c>__metadata__</c> string→string; each tensor <c>{dtype, shape, data_offsets}</c>; entries sorted
/// by offsets tile the data section from 0 with no hole or overlap; byte length = Π shape · bits / 8
/// with checked arithmetic; the last end is the end of the file. Stricter than the reference in
/// two places, each a clear error: duplicate keys anywhere (the format forbids them; a JSON map
/// would silently keep one) and shape extents above 2^63−1 (only possible in an empty tensor).
/// Unknown fields inside a tensor entry are ignored, as the reference's serde structs do.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>The reference's <c>MAX_HEADER_SIZE</c>.</summary>
    public const long MaxHeaderSize = 100_000_000;

    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsHeader(long headerLength, long dataLength, List<SafetensorsTensorInfo> tensors,
        Dictionary<string, string>? metadata)
    {
        HeaderLength = headerLength;
        DataLength = dataLength;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafetensorsTensorInfo>(tensors.Count, StringComparer.Ordinal);
        foreach (var t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>N: the length of the JSON header including its padding.</summary>
    public long HeaderLength { get; }

    /// <summary>File offset of the data section: 8 + N.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>Length of the data section in bytes.</summary>
    public long DataLength { get; }

    /// <summary>Tensors in data-offset order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map, or null when the header has none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    public bool TryGetTensor(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>Validates a whole file held in memory (<paramref name="file"/> = every byte of it).</summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> file, string source)
    {
        long n = ReadHeaderLength(file.Length >= 8 ? file[..8] : file, file.Length, source);
        return ParseJson(file.Slice(8, (int)n), n, file.Length, source);
    }

    /// <summary>Reads and validates the header of an open file of <paramref name="fileLength"/> bytes.</summary>
    internal static SafetensorsHeader Read(SafeFileHandle handle, long fileLength, string path)
    {
        Span<byte> prefix = stackalloc byte[8];
        int got = fileLength >= 8 ? RandomAccess.Read(handle, prefix, 0) : 0;
        long n = ReadHeaderLength(prefix[..got], fileLength, path);
        var json = new byte[n]; // n ≤ 100 MB and 8 + n ≤ file length: checked above
        int filled = 0;
        while (filled < json.Length)
        {
            int r = RandomAccess.Read(handle, json.AsSpan(filled), 8 + filled);
            if (r == 0) throw new CheckpointFormatException(path, null, $"the file ended inside its {n}-byte header (it changed while being read)");
            filled += r;
        }
        return ParseJson(json, n, fileLength, path);
    }

    private static long ReadHeaderLength(ReadOnlySpan<byte> prefix, long fileLength, string path)
    {
        if (prefix.Length < 8)
            throw new CheckpointFormatException(path, null,
                $"the file is {fileLength} bytes, too short for the 8-byte header length (HeaderTooSmall)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderSize)
            throw new CheckpointFormatException(path, null,
                $"the header claims {n} bytes, more than the {MaxHeaderSize}-byte limit (HeaderTooLarge)");
        if (8 + (long)n > fileLength)
            throw new CheckpointFormatException(path, null,
                $"the header claims {n} bytes but the file has only {fileLength - 8} after the length prefix (InvalidHeaderLength)");
        return (long)n;
    }

    private static SafetensorsHeader ParseJson(ReadOnlySpan<byte> json, long n, long fileLength, string path)
    {
        if (!Utf8.IsValid(json))
            throw new CheckpointFormatException(path, null, "the header is not valid UTF-8 (InvalidHeader)");

        int first = 0;
        while (first < json.Length && IsJsonWhitespace(json[first])) first++;
        if (first == json.Length)
            throw new CheckpointFormatException(path, null, "the header is empty (InvalidHeaderDeserialization)");
        if (json[first] != (byte)'{')
            throw new CheckpointFormatException(path, null,
                $"the header must be a JSON object starting with '{{', found '{(char)json[first]}' at header byte {first}");

        var entries = new List<RawEntry>();
        Dictionary<string, string>? metadata = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        string? current = null;
        try
        {
            reader.Read(); // StartObject, checked above
            while (true)
            {
                Next(ref reader, path, current);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                current = reader.GetString()!;
                if (!seen.Add(current))
                    throw new CheckpointFormatException(path, current, "the key appears twice in the header");
                if (current == "__metadata__") metadata = ReadMetadata(ref reader, path);
                else entries.Add(ReadEntry(ref reader, current, path));
            }
            current = null;
            if (reader.Read())
                throw new CheckpointFormatException(path, null, "the header has content after its JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, current,
                $"the header is not valid JSON (InvalidHeaderDeserialization): {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new CheckpointFormatException(path, current,
                $"the header is not valid JSON (InvalidHeaderDeserialization): {e.Message}", e);
        }

        var tensors = Validate(entries, path, out long dataLength);
        long actual = fileLength - 8 - n; // ≥ 0: checked by ReadHeaderLength
        if (dataLength != actual)
        {
            throw new CheckpointFormatException(path, null, actual > dataLength
                ? $"the tensors cover {dataLength} bytes of data but the file has {actual}: {actual - dataLength} trailing bytes (MetadataIncompleteBuffer)"
                : $"the tensors need {dataLength} bytes of data but the file has only {actual}: it is truncated (MetadataIncompleteBuffer)");
        }
        return new SafetensorsHeader(n, dataLength, tensors, metadata);
    }

    private static bool IsJsonWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';

    private static void Next(ref Utf8JsonReader reader, string path, string? key)
    {
        if (!reader.Read()) throw new CheckpointFormatException(path, key, "the header JSON ends early");
    }

    private static Dictionary<string, string>? ReadMetadata(ref Utf8JsonReader reader, string path)
    {
        const string key = "__metadata__";
        Next(ref reader, path, key);
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new CheckpointFormatException(path, key, $"must be an object of strings, found {Describe(reader.TokenType)}");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            Next(ref reader, path, key);
            if (reader.TokenType == JsonTokenType.EndObject) return map;
            string name = reader.GetString()!;
            Next(ref reader, path, key);
            if (reader.TokenType != JsonTokenType.String)
                throw new CheckpointFormatException(path, $"{key}.{name}",
                    $"metadata values must be strings (arbitrary JSON is not allowed), found {Describe(reader.TokenType)}");
            if (!map.TryAdd(name, reader.GetString()!))
                throw new CheckpointFormatException(path, $"{key}.{name}", "the metadata key appears twice");
        }
    }

    private struct RawEntry
    {
        public string Name;
        public SafetensorsDtype Dtype;
        public long[] Shape;
        public ulong Begin, End;
        public int Order;
    }

    private static RawEntry ReadEntry(ref Utf8JsonReader reader, string name, string path)
    {
        Next(ref reader, path, name);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new CheckpointFormatException(path, name, $"a tensor entry must be an object, found {Describe(reader.TokenType)}");
        string? dtype = null;
        List<long>? shape = null;
        ulong[]? offsets = null;
        while (true)
        {
            Next(ref reader, path, name);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string field = reader.GetString()!;
            Next(ref reader, path, name);
            switch (field)
            {
                case "dtype":
                    if (dtype is not null) throw Duplicate(path, name, field);
                    if (reader.TokenType != JsonTokenType.String)
                        throw new CheckpointFormatException(path, name, $"dtype must be a string, found {Describe(reader.TokenType)}");
                    dtype = reader.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw Duplicate(path, name, field);
                    shape = new List<long>();
                    foreach (ulong d in ReadUnsignedArray(ref reader, path, name, field))
                    {
                        if (d > long.MaxValue)
                            throw new CheckpointFormatException(path, name, $"shape extent {d} is larger than 2^63-1");
                        shape.Add((long)d);
                    }
                    break;
                case "data_offsets":
                    if (offsets is not null) throw Duplicate(path, name, field);
                    var list = ReadUnsignedArray(ref reader, path, name, field);
                    if (list.Count != 2)
                        throw new CheckpointFormatException(path, name, $"data_offsets must be [begin, end], found {list.Count} numbers");
                    offsets = list.ToArray();
                    break;
                default:
                    reader.Skip(); // the reference's serde structs ignore unknown fields
                    break;
            }
        }
        if (dtype is null) throw Missing(path, name, "dtype");
        if (shape is null) throw Missing(path, name, "shape");
        if (offsets is null) throw Missing(path, name, "data_offsets");
        if (!SafetensorsDtypes.TryParse(dtype, out var dt))
            throw new CheckpointFormatException(path, name, $"unknown dtype \"{dtype}\"");
        return new RawEntry { Name = name, Dtype = dt, Shape = shape.ToArray(), Begin = offsets[0], End = offsets[1] };
    }

    private static List<ulong> ReadUnsignedArray(ref Utf8JsonReader reader, string path, string name, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new CheckpointFormatException(path, name, $"{field} must be an array of non-negative integers, found {Describe(reader.TokenType)}");
        var values = new List<ulong>();
        while (true)
        {
            Next(ref reader, path, name);
            if (reader.TokenType == JsonTokenType.EndArray) return values;
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt64(out ulong v))
                throw new CheckpointFormatException(path, name,
                    $"{field} must hold non-negative integers below 2^64, found {Describe(reader.TokenType)} {RawText(ref reader)}");
            values.Add(v);
        }
    }

    private static List<SafetensorsTensorInfo> Validate(List<RawEntry> entries, string path, out long dataLength)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            e.Order = i;
            entries[i] = e;
        }
        // Sorted by (begin, end) as the reference does; equal offsets (empty tensors) keep header order.
        entries.Sort((a, b) =>
        {
            int c = a.Begin.CompareTo(b.Begin);
            if (c == 0) c = a.End.CompareTo(b.End);
            return c != 0 ? c : a.Order.CompareTo(b.Order);
        });

        var result = new List<SafetensorsTensorInfo>(entries.Count);
        ulong start = 0;
        foreach (var e in entries)
        {
            if (e.End < e.Begin)
                throw new CheckpointFormatException(path, e.Name, $"data_offsets end {e.End} is before begin {e.Begin} (InvalidOffset)");
            if (e.Begin > start)
                throw new CheckpointFormatException(path, e.Name,
                    $"data begins at {e.Begin} but the previous tensor ends at {start}: a hole of {e.Begin - start} bytes (InvalidOffset)");
            if (e.Begin < start)
                throw new CheckpointFormatException(path, e.Name,
                    $"data begins at {e.Begin}, inside the previous tensor which ends at {start}: overlapping offsets (InvalidOffset)");
            start = e.End;

            ulong elements = 1;
            ulong bits;
            try
            {
                foreach (long d in e.Shape) elements = checked(elements * (ulong)d);
                bits = checked(elements * (ulong)e.Dtype.BitSize());
            }
            catch (OverflowException)
            {
                throw new CheckpointFormatException(path, e.Name,
                    $"shape [{string.Join(", ", e.Shape)}] of {e.Dtype} overflows 64-bit size arithmetic (ValidationOverflow)");
            }
            if (bits % 8 != 0)
                throw new CheckpointFormatException(path, e.Name,
                    $"shape [{string.Join(", ", e.Shape)}] of {e.Dtype} is {bits} bits, not a whole number of bytes (MisalignedSlice)");
            if (e.End - e.Begin != bits / 8)
                throw new CheckpointFormatException(path, e.Name,
                    $"{e.Dtype} with shape [{string.Join(", ", e.Shape)}] needs {bits / 8} bytes but data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin} (TensorInvalidInfo)");
            if (e.End > long.MaxValue)
                throw new CheckpointFormatException(path, e.Name, $"data_offsets end {e.End} is beyond any file");
            result.Add(new SafetensorsTensorInfo(e.Name, e.Dtype, e.Shape, (long)e.Begin, (long)e.End, (long)elements));
        }
        dataLength = (long)start;
        return result;
    }

    private static CheckpointFormatException Duplicate(string path, string name, string field) =>
        new(path, name, $"the field {field} appears twice");

    private static CheckpointFormatException Missing(string path, string name, string field) =>
        new(path, name, $"the tensor entry has no {field}");

    private static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };

    private static string RawText(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number ? System.Text.Encoding.UTF8.GetString(reader.ValueSpan) : "";
}
