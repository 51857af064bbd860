using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DroSharp.Tensors;
using Microsoft.Win32.SafeHandles;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// An open safetensors file. <see cref="Open"/> validates the whole header (see
/// <see cref="SafetensorsHeader"/>); tensors are then read one at a time with positioned reads
/// straight into tensor memory (F32) or through a small conversion buffer (F16, BF16, F64), so
/// the file is never loaded whole. Reads are positioned (pread), so several threads may read
/// different tensors of one open file at once.
/// </summary>
public sealed unsafe class SafetensorsReader : ITensorSource, IDisposable
{
    private const int ChunkBytes = 1 << 20;

    private readonly SafeFileHandle _handle;
    private readonly string[] _names;

    private SafetensorsReader(string path, SafeFileHandle handle, long length, SafetensorsHeader header)
    {
        FilePath = path;
        _handle = handle;
        FileLength = length;
        Header = header;
        _names = header.Tensors.Select(t => t.Name).ToArray();
    }

    /// <summary>Opens and validates <paramref name="path"/>; a malformed file gives a <see cref="CheckpointFormatException"/>.</summary>
    public static SafetensorsReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            var header = SafetensorsHeader.Read(handle, length, path);
            return new SafetensorsReader(path, handle, length, header);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public string FilePath { get; }

    public string Location => FilePath;

    public long FileLength { get; }

    public SafetensorsHeader Header { get; }

    /// <summary>The <c>__metadata__</c> map, or null when the file has none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata => Header.Metadata;

    public IReadOnlyList<SafetensorsTensorInfo> Tensors => Header.Tensors;

    public IReadOnlyList<string> TensorNames => _names;

    public bool Contains(string name) => Header.TryGetTensor(name, out _);

    public bool TryGetInfo(string name, out SafetensorsTensorInfo info) => Header.TryGetTensor(name, out info);

    public SafetensorsTensorInfo GetInfo(string name) =>
        Header.TryGetTensor(name, out var info) ? info : throw new CheckpointFormatException(FilePath, name, "no such tensor in the file");

    /// <summary>Reads an F32, F16, BF16 or F64 tensor as a new owned float32 tensor named <paramref name="name"/>.</summary>
    public Tensor ReadTensor(string name)
    {
        var info = GetInfo(name);
        RequireFloat(info);
        if (!info.TryGetTensorShape(out var shape, out var reason))
            throw new CheckpointFormatException(FilePath, name, $"cannot be read as a tensor: {reason}");
        var t = Tensor.Uninitialized(shape);
        try
        {
            ReadFloats(info, new Span<float>(t.Data, t.Length));
        }
        catch
        {
            t.Dispose();
            throw;
        }
        t.Name = name;
        return t;
    }

    /// <inheritdoc/>
    public void ReadInto(string name, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var info = GetInfo(name);
        RequireFloat(info);
        if (!info.ShapeEquals(destination.Shape))
            throw new CheckpointFormatException(FilePath, name, $"shape {info.ShapeString} in the file, {destination.Shape} expected");
        ReadFloats(info, new Span<float>(destination.Data, destination.Length));
    }

    /// <summary>Reads an integer or BOOL tensor (I8…I64, U8…U64) as 64-bit integers, row-major.</summary>
    public long[] ReadInt64(string name)
    {
        var info = GetInfo(name);
        if (!info.Dtype.IsReadableAsInt64())
            throw new CheckpointFormatException(FilePath, name, $"dtype {info.Dtype} cannot be read as integers");
        if (info.ElementCount > Array.MaxLength)
            throw new CheckpointFormatException(FilePath, name, $"{info.ElementCount} elements are too many for an array");
        var result = new long[info.ElementCount];
        int size = info.Dtype.BitSize() / 8;
        ForEachChunk(info, size, (bytes, first) =>
        {
            int count = bytes.Length / size;
            for (int i = 0; i < count; i++)
            {
                var b = bytes.Slice(i * size, size);
                result[first + i] = info.Dtype switch
                {
                    SafetensorsDtype.BOOL or SafetensorsDtype.U8 => b[0],
                    SafetensorsDtype.I8 => (sbyte)b[0],
                    SafetensorsDtype.I16 => BinaryPrimitives.ReadInt16LittleEndian(b),
                    SafetensorsDtype.U16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
                    SafetensorsDtype.I32 => BinaryPrimitives.ReadInt32LittleEndian(b),
                    SafetensorsDtype.U32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
                    SafetensorsDtype.I64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                    _ => ReadU64AsInt64(b, name),
                };
            }
        });
        return result;
    }

    /// <summary>Copies a tensor's stored bytes (little-endian, as in the file) into <paramref name="destination"/>.</summary>
    public void ReadBytes(string name, Span<byte> destination)
    {
        var info = GetInfo(name);
        if (destination.Length != info.ByteLength)
            throw new ArgumentException($"{name} is {info.ByteLength} bytes, destination has {destination.Length}", nameof(destination));
        ReadExactly(destination, Header.DataStart + info.DataBegin, name);
    }

    private long ReadU64AsInt64(ReadOnlySpan<byte> b, string name)
    {
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(b);
        if (v > long.MaxValue) throw new CheckpointFormatException(FilePath, name, $"U64 value {v} does not fit a signed 64-bit integer");
        return (long)v;
    }

    private void RequireFloat(SafetensorsTensorInfo info)
    {
        if (!info.Dtype.IsReadableAsFloat32())
            throw new CheckpointFormatException(FilePath, info.Name,
                $"dtype {info.Dtype} cannot be read as float32 (F32, F16, BF16 and F64 can)" +
                (info.Dtype.IsReadableAsInt64() ? "; read integers with ReadInt64" : ""));
    }

    private void ReadFloats(SafetensorsTensorInfo info, Span<float> destination)
    {
        if (info.Dtype == SafetensorsDtype.F32 && BitConverter.IsLittleEndian)
        {
            // Straight into tensor memory, no staging copy.
            ReadExactly(MemoryMarshal.AsBytes(destination), Header.DataStart + info.DataBegin, info.Name);
            return;
        }
        int size = info.Dtype.BitSize() / 8;
        fixed (float* dst = destination)
        {
            float* d = dst;
            ForEachChunk(info, size, (bytes, first) =>
            {
                var target = new Span<float>(d + first, bytes.Length / size);
                switch (info.Dtype)
                {
                    case SafetensorsDtype.F32: FloatConversions.FromF32(bytes, target); break;
                    case SafetensorsDtype.F16: FloatConversions.FromF16(bytes, target); break;
                    case SafetensorsDtype.BF16: FloatConversions.FromBF16(bytes, target); break;
                    default: FloatConversions.FromF64(bytes, target); break;
                }
            });
        }
    }

    private delegate void ChunkAction(ReadOnlySpan<byte> bytes, long firstElement);

    /// <summary>Reads the tensor's bytes in chunks of whole elements.</summary>
    private void ForEachChunk(SafetensorsTensorInfo info, int elementSize, ChunkAction action)
    {
        int chunk = ChunkBytes / elementSize * elementSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunk);
        try
        {
            long offset = 0;
            while (offset < info.ByteLength)
            {
                int n = (int)Math.Min(chunk, info.ByteLength - offset);
                var span = buffer.AsSpan(0, n);
                ReadExactly(span, Header.DataStart + info.DataBegin + offset, info.Name);
                action(span, offset / elementSize);
                offset += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ReadExactly(Span<byte> destination, long fileOffset, string name)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, destination[..Math.Min(destination.Length, 1 << 30)], fileOffset);
            if (n == 0)
                throw new CheckpointFormatException(FilePath, name,
                    $"the file ended at byte {fileOffset} while reading this tensor (it was truncated or changed after opening)");
            destination = destination[n..];
            fileOffset += n;
        }
    }

    public override string ToString() => $"{FilePath} ({Tensors.Count} tensors)";

    public void Dispose() => _handle.Dispose();
}
