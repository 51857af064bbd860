using System.Buffers.Binary;
using System.Text;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Gguf;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>GgufWriter → GgufReader round trips of every value and tensor type, and hostile files.</summary>
public sealed class GgufRoundTripTests
{
    private static GgufWriter EveryValueType()
    {
        var w = new GgufWriter();
        w.Add("u8", GgufValue.UInt8(250)).Add("i8", GgufValue.Int8(-7)).Add("u16", GgufValue.UInt16(65000)).Add("i16", GgufValue.Int16(-30000))
            .Add("u32", GgufValue.UInt32(4_000_000_000)).Add("i32", GgufValue.Int32(-2_000_000_000)).Add("f32", GgufValue.Float32(-1.5e-7f))
            .Add("bool.t", GgufValue.Bool(true)).Add("bool.f", GgufValue.Bool(false)).Add("str", GgufValue.String("Grüße, 世界 \n\"quoted\" ▁Ġ"))
            .Add("empty.str", GgufValue.String("")).Add("u64", GgufValue.UInt64(ulong.MaxValue)).Add("i64", GgufValue.Int64(long.MinValue))
            .Add("f64", GgufValue.Float64(Math.PI))
            .Add("arr.u8", GgufValue.Array(new byte[] { 0, 1, 255 })).Add("arr.i8", GgufValue.Array(new sbyte[] { -128, 127 }))
            .Add("arr.u16", GgufValue.Array(new ushort[] { 1, 65535 })).Add("arr.i16", GgufValue.Array(new short[] { -1, 2 }))
            .Add("arr.u32", GgufValue.Array(new uint[] { 3, uint.MaxValue })).Add("arr.i32", GgufValue.Array(new[] { -5, 6, 7 }))
            .Add("arr.f32", GgufValue.Array(new[] { 0.25f, float.MaxValue, -0f })).Add("arr.bool", GgufValue.Array(new[] { true, false, true }))
            .Add("arr.str", GgufValue.Array(new[] { "a", "", "ĠĊ", "<0x0A>" })).Add("arr.u64", GgufValue.Array(new ulong[] { 9 }))
            .Add("arr.i64", GgufValue.Array(new long[] { -9, long.MaxValue })).Add("arr.f64", GgufValue.Array(new[] { 1e300, -2.5 }))
            .Add("arr.empty", GgufValue.Array(Array.Empty<int>()));
        return w;
    }

    [Fact]
    public void EveryValueTypeRoundTrips()
    {
        using var files = new GgufTestFiles();
        var w = EveryValueType();
        string path = files.PathFor("values.gguf");
        w.Write(path);
        using var r = GgufReader.Open(path);
        Assert.Equal(3u, r.Version);
        Assert.Empty(r.Tensors);
        Assert.Equal(w.Metadata.Select(kv => kv.Key), r.Metadata.Select(kv => kv.Key));
        foreach (var (key, expected) in w.Metadata)
        {
            var actual = r.GetValue(key);
            Assert.Equal(expected.Type, actual.Type);
            Assert.Equal(expected.ElementType, actual.ElementType);
            if (expected.IsArray) Assert.Equal(((Array)expected.RawValue).Cast<object>(), ((Array)actual.RawValue).Cast<object>());
            else Assert.Equal(expected.RawValue, actual.RawValue);
        }
        Assert.Equal("Grüße, 世界 \n\"quoted\" ▁Ġ", r.GetValue("str").AsString());
        Assert.Equal(-2_000_000_000L, r.GetValue("i32").AsInt64());
        Assert.Equal(["a", "", "ĠĊ", "<0x0A>"], r.GetValue("arr.str").AsArray<string>());
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(1)]
    public void TensorsOfEveryWritableTypeRoundTrip(int alignment)
    {
        using var files = new GgufTestFiles();
        var rng = new Random(alignment);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        float[] a = Random(3 * 5), b = Random(7 * 2 * 3), c = Random(4 * 64), d = Random(96), e = Random(1);
        byte[] q4k = Enumerable.Range(0, 2 * 144).Select(i => (byte)(i * 7)).ToArray();
        var w = new GgufWriter(alignment);
        w.AddString("general.architecture", "test");
        w.AddTensor("a.f32", [3, 5], GgufTensorType.F32, a);
        w.AddTensor("b.f16", [7, 2, 3], GgufTensorType.F16, b);
        w.AddTensor("c.q8_0", [4, 64], GgufTensorType.Q8_0, c);
        w.AddTensor("d.bf16", [96], GgufTensorType.BF16, d);
        w.AddTensor("e.scalar", [], GgufTensorType.F32, e);
        w.AddEncodedTensor("f.q4_k", [2, 256], GgufTensorType.Q4_K, q4k);
        string path = files.PathFor("tensors.gguf");
        w.Write(path);

        using var r = GgufReader.Open(path);
        Assert.Equal(alignment, r.Alignment);
        Assert.Equal(alignment == 32 ? 1 : 2, r.Metadata.Count); // general.alignment only when not the default
        Assert.Equal(["a.f32", "b.f16", "c.q8_0", "d.bf16", "e.scalar", "f.q4_k"], r.Tensors.Select(t => t.Name));
        Assert.Equal([5L, 3], r.GetTensor("a.f32").Dimensions); // ggml order: innermost first
        Assert.Equal([7L, 2, 3], r.GetTensor("b.f16").Shape);
        Assert.Equal([3L, 2, 7], r.GetTensor("b.f16").Dimensions);
        Assert.Empty(r.GetTensor("e.scalar").Dimensions);
        Assert.Equal(2 * 34 * 4, r.GetTensor("c.q8_0").ByteLength);
        foreach (var t in r.Tensors) Assert.Equal(0, (r.DataOffset + t.Offset) % alignment);
        Assert.Equal(a, r.ReadTensorFloats("a.f32"));
        Assert.Equal(b.Select(x => (float)(Half)x), r.ReadTensorFloats("b.f16"));
        Assert.Equal(d.Select(x => FloatConversions.BFloat16ToSingle(FloatConversions.SingleToBFloat16(x))), r.ReadTensorFloats("d.bf16"));
        Assert.Equal(e, r.ReadTensorFloats("e.scalar"));
        var q = new byte[4 * 2 * 34];
        GgufQ8_0.Quantize(c, q);
        Assert.Equal(q, r.ReadTensorBytes("c.q8_0"));
        Assert.Equal(q4k, r.ReadTensorBytes("f.q4_k"));
        Assert.Throws<CheckpointFormatException>(() => r.ReadTensorFloats("f.q4_k"));
    }

    [Fact]
    public void DescribeListsMetadataAndTensors()
    {
        using var files = new GgufTestFiles();
        var w = new GgufWriter();
        w.AddString("general.architecture", "llama").Add("tokens", GgufValue.Array(Enumerable.Range(0, 20).Select(i => $"t{i}").ToArray()));
        w.AddTensor("blk.0.attn_q.weight", [4, 32], GgufTensorType.Q8_0, new float[128]);
        w.Write(files.PathFor("d.gguf"));
        using var r = GgufReader.Open(files.PathFor("d.gguf"));
        var lines = r.Describe(maxArrayElements: 3).ToList();
        Assert.Contains("GGUF v3", lines[0]);
        Assert.Equal("general.architecture str = \"llama\"", lines[1]);
        Assert.Equal("tokens arr[str,20] = [\"t0\", \"t1\", \"t2\", … (20 in all)]", lines[2]);
        Assert.Equal("blk.0.attn_q.weight q8_0 [4, 32] 136 bytes", lines[3]);
    }

    [Fact]
    public void RowSourceIsAskedForChunksInOrder()
    {
        using var files = new GgufTestFiles();
        const int rows = 3000, cols = 700; // > 1M floats, so more than one chunk
        var asked = new List<long>();
        var w = new GgufWriter();
        w.AddTensor("big", [rows, cols], GgufTensorType.F16, (first, dst) =>
        {
            asked.Add(first);
            for (int i = 0; i < dst.Length; i++) dst[i] = (first * cols + i) % 1000;
        });
        w.Write(files.PathFor("big.gguf"));
        Assert.True(asked.Count > 1);
        Assert.Equal(0, asked[0]);
        Assert.True(asked.Zip(asked.Skip(1)).All(p => p.Second > p.First));
        using var r = GgufReader.Open(files.PathFor("big.gguf"));
        var v = r.ReadTensorFloats("big");
        for (int i = 0; i < v.Length; i += 997) Assert.Equal(i % 1000, v[i]);
    }

    [Fact]
    public void WriterRejectsWhatGgmlCannotLoad()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('x', 64), [1], GgufTensorType.F32, new float[1]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("q", [2, 33], GgufTensorType.Q8_0, new float[66]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five", [1, 1, 1, 1, 1], GgufTensorType.F32, new float[1]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("k", [2], GgufTensorType.Q4_K, (_, _) => { }));
        Assert.Throws<ArgumentException>(() => w.Add(GgufReader.AlignmentKey, GgufValue.UInt32(64)));
        w.AddTensor("t", [2], GgufTensorType.F32, new float[2]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", [2], GgufTensorType.F32, new float[2]));
        w.AddString("k", "v");
        Assert.Throws<ArgumentException>(() => w.AddString("k", "again"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(48));
    }

    [Fact]
    public void FailedWriteLeavesNoFile()
    {
        using var files = new GgufTestFiles();
        var w = new GgufWriter();
        w.AddTensor("t", [4], GgufTensorType.F32, (_, _) => throw new IOException("source failed"));
        string path = files.PathFor("never.gguf");
        Assert.Throws<IOException>(() => w.Write(path));
        Assert.Empty(Directory.GetFiles(files.Directory));
    }

    // ---- hostile files -------------------------------------------------------------------------------------

    /// <summary>A small valid file built by hand, so single fields can be corrupted.</summary>
    private sealed class Builder
    {
        private readonly MemoryStream _s = new();
        public Builder U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _s.Write(b); return this; }
        public Builder U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); _s.Write(b); return this; }
        public Builder Bytes(params byte[] b) { _s.Write(b); return this; }
        public Builder Str(string s) { var b = Encoding.UTF8.GetBytes(s); U64((ulong)b.Length); return Bytes(b); }
        public Builder Pad(int alignment) { while (_s.Length % alignment != 0) _s.WriteByte(0); return this; }
        public byte[] ToArray() => _s.ToArray();
    }

    private static Builder Header(ulong tensors, ulong kvs, uint version = 3) =>
        new Builder().U32(GgufReader.Magic).U32(version).U64(tensors).U64(kvs);

    private static byte[] ValidFile() =>
        Header(2, 2).Str("general.architecture").U32(8).Str("llama")
            .Str("names").U32(9).U32(8).U64(2).Str("x").Str("yz")
            .Str("a").U32(2).U64(4).U64(2).U32(0).U64(0)
            .Str("b").U32(1).U64(32).U32(8).U64(32)
            .Pad(32).Bytes(new byte[32]).Bytes(new byte[34]).Pad(32).ToArray();

    private static CheckpointFormatException Rejects(byte[] bytes, string? key = null, string? fragment = null)
    {
        using var files = new GgufTestFiles();
        string path = files.PathFor("hostile.gguf");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => GgufReader.Open(path).Dispose());
        if (key is not null) Assert.Equal(key, e.Key);
        if (fragment is not null) Assert.Contains(fragment, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void HandBuiltFileOpens()
    {
        using var files = new GgufTestFiles();
        string path = files.PathFor("valid.gguf");
        File.WriteAllBytes(path, ValidFile());
        using var r = GgufReader.Open(path);
        Assert.Equal("llama", r.Architecture);
        Assert.Equal(["x", "yz"], r.GetValue("names").AsArray<string>());
        Assert.Equal(GgufTensorType.Q8_0, r.GetTensor("b").Type);
        Assert.Equal(32, r.GetTensor("b").Offset);
    }

    [Fact]
    public void EveryTruncationIsRejectedCleanly()
    {
        byte[] valid = ValidFile();
        // Every prefix shorter than the end of the last tensor's data must fail with a format error.
        int end = valid.Length - 30; // the last tensor's 34 bytes end 30 bytes before the padded end
        for (int n = 0; n < end; n++) Rejects(valid[..n]);
    }

    [Fact]
    public void RandomCorruptionsNeverCrash()
    {
        byte[] valid = ValidFile();
        var rng = new Random(12);
        using var files = new GgufTestFiles();
        string path = files.PathFor("fuzz.gguf");
        for (int trial = 0; trial < 400; trial++)
        {
            byte[] b = (byte[])valid.Clone();
            int flips = 1 + rng.Next(4);
            for (int f = 0; f < flips; f++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
            File.WriteAllBytes(path, b);
            try
            {
                using var r = GgufReader.Open(path);
                foreach (var t in r.Tensors) r.ReadTensorBytes(t.Name);
            }
            catch (CheckpointFormatException)
            {
            }
        }
    }

    [Fact]
    public void HeaderFieldsAreChecked()
    {
        Rejects(new Builder().Bytes("GGML"u8.ToArray()).U32(3).U64(0).U64(0).ToArray(), "magic", "not a GGUF file");
        Rejects(Header(0, 0, version: 1).ToArray(), "version", "version 1");
        Rejects(Header(0, 0, version: 4).ToArray(), "version", "not supported");
        Rejects(Header(0, 0, version: 0x03000000).ToArray(), "version", "byte-swapped");
        Rejects(Header(ulong.MaxValue, 0).ToArray(), "tensor_count");
        Rejects(Header(0, 1_000_000).ToArray(), "metadata_kv_count", "cannot fit");
    }

    [Fact]
    public void MetadataFieldsAreChecked()
    {
        Rejects(Header(0, 1).Str("").U32(4).U32(1).ToArray(), "metadata pair 0", "empty");
        Rejects(Header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2).ToArray(), "k", "twice");
        Rejects(Header(0, 1).Str("k").U32(13).U32(1).ToArray(), "k", "unknown value type 13");
        Rejects(Header(0, 1).Str("k").U32(8).U64(1UL << 40).ToArray(), "k", "cannot fit");
        Rejects(Header(0, 1).Str("k").U32(9).U32(4).U64(1UL << 40).ToArray(), "k", "cannot fit");
        Rejects(Header(0, 1).Str("k").U32(9).U32(9).U64(1).ToArray(), "k", "arrays of arrays");
        Rejects(Header(0, 1).Str("k").U32(7).Bytes(2).ToArray(), "k", "0 or 1");
        Rejects(Header(0, 1).Str("k").U32(8).U64(2).Bytes(0xC3, 0x28).ToArray(), "k", "UTF-8");
        Rejects(Header(0, 1).Str("k").U32(9).U32(8).U64(2).Str("ok").U64(5).ToArray(), "k[1]", "cannot fit");
        Rejects(Header(0, 1).Str(GgufReader.AlignmentKey).U32(5).U32(32).ToArray(), GgufReader.AlignmentKey, "must be a u32");
        Rejects(Header(0, 1).Str(GgufReader.AlignmentKey).U32(4).U32(48).ToArray(), GgufReader.AlignmentKey, "power of 2");
        Rejects(Header(0, 1).Str(GgufReader.AlignmentKey).U32(4).U32(0).ToArray(), GgufReader.AlignmentKey, "power of 2");
    }

    private static byte[] OneTensor(string name, uint nDims, ulong[] dims, uint type, ulong offset, int dataBytes)
    {
        var b = Header(1, 0).Str(name).U32(nDims);
        foreach (ulong d in dims) b.U64(d);
        return b.U32(type).U64(offset).Pad(32).Bytes(new byte[dataBytes]).ToArray();
    }

    [Fact]
    public void TensorInfosAreChecked()
    {
        Rejects(OneTensor("", 1, [4], 0, 0, 16), "tensor 0", "empty");
        Rejects(OneTensor(new string('n', 64), 1, [4], 0, 0, 16), new string('n', 64), "longer than 63");
        Rejects(OneTensor("t", 5, [1, 1, 1, 1, 1], 0, 0, 4), "t", "at most 4");
        Rejects(OneTensor("t", 1, [unchecked((ulong)-4L)], 0, 0, 16), "t", "negative");
        Rejects(OneTensor("t", 2, [1UL << 40, 1UL << 40], 0, 0, 16), "t", "overflows");
        Rejects(OneTensor("t", 1, [4], 4, 0, 16), "t", "unknown tensor type 4");
        Rejects(OneTensor("t", 1, [33], 8, 0, 68), "t", "not a whole number of q8_0 blocks");
        Rejects(OneTensor("t", 1, [4], 0, 32, 64), "t", "offset 32 but 0 expected");
        Rejects(OneTensor("t", 1, [64], 0, 0, 16), "t", "runs past the end");
        Rejects(Header(2, 0).Str("t").U32(1).U64(4).U32(0).U64(0).Str("t").U32(1).U64(4).U32(0).U64(32).Pad(32).Bytes(new byte[64]).ToArray(), "t", "twice");
        // The second tensor must start at the aligned end of the first (16 bytes → 32), not right after it.
        Rejects(Header(2, 0).Str("a").U32(1).U64(4).U32(0).U64(0).Str("b").U32(1).U64(4).U32(0).U64(16).Pad(32).Bytes(new byte[64]).ToArray(), "b", "offset 16 but 32 expected");
    }
}
