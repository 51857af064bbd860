using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace DroSharp.Models.Tests.Checkpoints;

/// <summary>Fixture paths and a scratch directory for checkpoint tests; hand-built safetensors bytes.</summary>
internal sealed class CheckpointTestFiles : IDisposable
{
    private readonly TempDirectory _scratch = new("drosharp-ckpt-");

    /// <summary>A fresh scratch directory, deleted on dispose.</summary>
    public string Directory => _scratch.Path;

    public string PathFor(string name) => _scratch.File(name);

    public string SubDirectory(string name)
    {
        string d = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>tests/DroSharp.Models.Tests/Fixtures/t5-tiny (the golden model, copied into the repository).</summary>
    public static string TinyFixture => Path.Combine(FixturesRoot(), "t5-tiny");

    private static string FixturesRoot([CallerFilePath] string source = "")
    {
        string nearSource = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "Fixtures"));
        if (System.IO.Directory.Exists(nearSource)) return nearSource;
        return Path.Combine(AppContext.BaseDirectory, "Fixtures");
    }

    /// <summary>[u64 LE n][header (+ spaces to a multiple of 8 when pad)][data].</summary>
    public static byte[] Build(string header, byte[] data, bool pad = true, ulong? headerLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header).ToList();
        if (pad) while (h.Count % 8 != 0) h.Add((byte)' ');
        return Build(h.ToArray(), data, headerLength);
    }

    public static byte[] Build(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public static byte[] Floats(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), values[i]);
        return b;
    }

    public string Write(string name, byte[] bytes)
    {
        string path = PathFor(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => _scratch.Dispose();
}
