using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;
using static DroSharp.Models.Tests.Checkpoints.CheckpointTestFiles;

namespace DroSharp.Models.Tests.Checkpoints;

public sealed class SafetensorsWriterTests : IDisposable
{
    private readonly CheckpointTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static Tensor Random(Shape shape, int seed, string? name = null)
    {
        var rng = new Random(seed);
        var t = Tensor.Uninitialized(shape);
        for (int i = 0; i < t.Length; i++) t[i] = (float)(rng.NextDouble() * 4 - 2) * MathF.Pow(10, rng.Next(-3, 3));
        t.Name = name;
        return t;
    }

    private static (string Json, byte[] File) HeaderOf(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (Encoding.UTF8.GetString(file, 8, n), file);
    }

    [Fact]
    public void F32RoundTripIsBitExactIncludingSpecialValues()
    {
        var shapes = new[] { new Shape(1), new Shape(7, 33), new Shape(2, 3, 4, 5), Shape.Scalar, new Shape(0, 5), new Shape(129) };
        var tensors = shapes.Select((s, i) => Random(s, i, $"t{i}")).ToList();
        float[] specials = [float.NaN, BitConverter.UInt32BitsToSingle(0x7FA00001), -0f, float.PositiveInfinity,
            float.NegativeInfinity, float.Epsilon, -float.Epsilon, 1e-40f, float.MaxValue];
        var special = Tensor.FromArray(specials, specials.Length);
        special.Name = "specials";
        tensors.Add(special);

        string path = _files.PathFor("rt.safetensors");
        SafetensorsWriter.Save(path, tensors);
        using var r = SafetensorsReader.Open(path);
        Assert.Equal("pt", r.Metadata!["format"]);
        foreach (var t in tensors)
        {
            using var back = r.ReadTensor(t.Name!);
            Assert.Equal(t.Shape, back.Shape);
            for (int i = 0; i < t.Length; i++)
                Assert.Equal(BitConverter.SingleToUInt32Bits(t[i]), BitConverter.SingleToUInt32Bits(back[i]));
        }
        foreach (var t in tensors) t.Dispose();
    }

    [Fact]
    public void BF16AndF16OutputAreRoundedToNearestEven()
    {
        using var t = Random(new Shape(33, 7), 3, "w");
        t[0] = 1.00390625f;          // exactly between two BF16 values (1 and 1.0078125): ties to even, 1
        t[1] = 1.01171875f;          // between 1.0078125 (odd) and 1.015625 (even): 1.015625
        t[2] = 65520f;               // F16 overflow midpoint: inf; BF16: 65536
        t[3] = float.NaN;
        t[4] = BitConverter.UInt32BitsToSingle(0x00100000); // 2^-130, a float subnormal: exact in BF16, 0 in F16

        foreach (var dtype in new[] { SafetensorsDtype.BF16, SafetensorsDtype.F16 })
        {
            string path = _files.PathFor($"{dtype}.safetensors");
            new SafetensorsWriter().Add("w", t, dtype).Write(path);
            using var r = SafetensorsReader.Open(path);
            Assert.Equal(dtype, r.GetInfo("w").Dtype);
            Assert.Equal(t.Length * 2, r.GetInfo("w").ByteLength);
            using var back = r.ReadTensor("w");
            for (int i = 0; i < t.Length; i++)
            {
                float expected = dtype == SafetensorsDtype.BF16
                    ? FloatConversions.BFloat16ToSingle(FloatConversions.SingleToBFloat16(t[i]))
                    : FloatConversions.HalfToSingle(FloatConversions.SingleToHalf(t[i]));
                Assert.Equal(expected, back[i]);
            }
            if (dtype == SafetensorsDtype.BF16)
            {
                Assert.Equal(1f, back[0]);
                Assert.Equal(1.015625f, back[1]);
                Assert.Equal(65536f, back[2]);
                Assert.Equal(t[4], back[4]);
            }
            else
            {
                Assert.Equal(float.PositiveInfinity, back[2]);
                Assert.Equal(0f, back[4]);
            }
            Assert.True(float.IsNaN(back[3]));
        }
    }

    [Fact]
    public void LayoutFollowsTheReference()
    {
        using var big = Random(new Shape(3), 1);
        using var small = Random(new Shape(2, 2), 2);
        using var mid = Random(new Shape(5), 3);
        string path = _files.PathFor("layout.safetensors");
        new SafetensorsWriter()
            .Add("b.small", small, SafetensorsDtype.BF16)
            .Add("z.f32", big)
            .Add("a.f32", mid)
            .AddInt64("steps", [1, -2, 3], 3)
            .Add("a.half", small, SafetensorsDtype.F16)
            .AddMetadata("producer", "test")
            .Write(path);

        var (json, file) = HeaderOf(path);
        Assert.Equal(0, json.Length % 8);
        Assert.EndsWith("}", json.TrimEnd(' '));
        Assert.True(json.TrimEnd(' ').Length > json.Length - 8, "padding is fewer than 8 spaces");
        // __metadata__ first; then dtype descending (I64 > F32 > BF16 > F16), then name.
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\",\"producer\":\"test\"},\"steps\":", json);
        using var doc = JsonDocument.Parse(json);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["__metadata__", "steps", "a.f32", "z.f32", "b.small", "a.half"], names);

        long expectedOffset = 0;
        foreach (string name in names[1..])
        {
            var offsets = doc.RootElement.GetProperty(name).GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(expectedOffset, offsets[0]);
            expectedOffset = offsets[1];
        }
        Assert.Equal(file.Length, 8 + json.Length + expectedOffset);

        using var r = SafetensorsReader.Open(path);
        Assert.Equal([1L, -2L, 3L], r.ReadInt64("steps"));
        using var a = r.ReadTensor("a.f32");
        Assert.Equal(mid.ToArray(), a.ToArray());
    }

    [Fact]
    public void BytesMatchTheReferenceSerializerTests()
    {
        // safetensors/src/tensor.rs test_serialization: {"attn.0": F32 [1,2,3] = 0..5}, no metadata.
        using var t = Tensor.FromArray([0f, 1, 2, 3, 4, 5], 1, 2, 3);
        string path = _files.PathFor("ref.safetensors");
        new SafetensorsWriter(addFormatMetadata: false).Add("attn.0", t).Write(path);
        byte[] expected =
        [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ];
        Assert.Equal(expected, File.ReadAllBytes(path));

        // test_serialization_forced_alignement: a 65-byte header padded with 7 spaces.
        using var t4 = Tensor.FromArray([0f, 1, 2, 3, 4, 5], 1, 1, 2, 3);
        new SafetensorsWriter(addFormatMetadata: false).Add("attn0", t4).Write(path);
        byte[] file = File.ReadAllBytes(path);
        Assert.Equal(72UL, BinaryPrimitives.ReadUInt64LittleEndian(file));
        Assert.Equal("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", Encoding.UTF8.GetString(file, 8, 72));

        // test_empty: "{}" + 6 spaces; with {"framework": "pt"}: 35 bytes + 5 spaces.
        new SafetensorsWriter(addFormatMetadata: false).Write(path);
        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32], File.ReadAllBytes(path));
        new SafetensorsWriter(addFormatMetadata: false).AddMetadata("framework", "pt").Write(path);
        Assert.Equal("{\"__metadata__\":{\"framework\":\"pt\"}}     ", Encoding.UTF8.GetString(File.ReadAllBytes(path), 8, 40));
    }

    [Fact]
    public void RewritingTheGoldenModelReproducesItsDataSectionByteForByte()
    {
        string golden = Path.Combine(TinyFixture, "model.safetensors");
        using var r = SafetensorsReader.Open(golden);
        var tensors = r.TensorNames.Select(r.ReadTensor).ToList();
        var w = new SafetensorsWriter();
        foreach (var t in tensors) w.Add(t.Name!, t);
        foreach (var (k, v) in r.Metadata!) w.AddMetadata(k, v);
        string path = _files.PathFor("model.safetensors");
        w.Write(path);

        byte[] a = File.ReadAllBytes(golden), b = File.ReadAllBytes(path);
        using var r2 = SafetensorsReader.Open(path);
        Assert.Equal(r.TensorNames, r2.TensorNames);
        Assert.Equal(r.Metadata, r2.Metadata);
        Assert.Equal(a.AsSpan((int)r.Header.DataStart).ToArray(), b.AsSpan((int)r2.Header.DataStart).ToArray());
        foreach (var t in tensors) t.Dispose();
    }

    [Fact]
    public void NamesAreEscapedLikeSerdeJsonAndReadBack()
    {
        using var t = Tensor.FromArray([1f], 1);
        string[] names = ["quote\"d", "back\\slash", "tab\tnew\nline", "ctl\u0001", "unicode é ✓ 𝄞", ""];
        var w = new SafetensorsWriter();
        foreach (string n in names) w.Add(n, t);
        string path = _files.PathFor("names.safetensors");
        w.Write(path);
        var (json, _) = HeaderOf(path);
        Assert.Contains("\"ctl\\u0001\"", json);
        Assert.Contains("unicode é ✓ 𝄞", json); // raw UTF-8, not \u escapes
        using var r = SafetensorsReader.Open(path);
        Assert.Equal(names.Order(StringComparer.Ordinal), r.TensorNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void BadInputIsRefused()
    {
        using var t = Tensor.FromArray([1f], 1);
        var w = new SafetensorsWriter().Add("a", t);
        Assert.Throws<ArgumentException>(() => w.Add("a", t));
        Assert.Throws<ArgumentException>(() => w.Add("__metadata__", t));
        Assert.Throws<ArgumentException>(() => w.Add("b", t, SafetensorsDtype.I8));
        Assert.Throws<ArgumentException>(() => w.Add("bad\uD800", t));
        Assert.Throws<ArgumentException>(() => w.AddInt64("c", [1, 2], 3));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(_files.PathFor("x.safetensors"), [Tensor.Zeros(2)]));
    }

    [Fact]
    public void AtomicWriteReplacesTheTargetAndLeavesNoTemporaryFile()
    {
        string dir = _files.SubDirectory("atomic");
        string path = Path.Combine(dir, "model.safetensors");
        File.WriteAllText(path, "old contents");
        using var t = Random(new Shape(4, 4), 9, "w");
        SafetensorsWriter.Save(path, [t]);
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
        using (var r = SafetensorsReader.Open(path)) Assert.Equal(["w"], r.TensorNames);

        // A write that fails part way leaves the previous file intact and no temporary behind.
        byte[] before = File.ReadAllBytes(path);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100]);
            throw new IOException("disk full (simulated)");
        }));
        Assert.Contains("simulated", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }
}
