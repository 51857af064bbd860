using System.Buffers.Binary;
using System.Text;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;
using static DroSharp.Models.Tests.Checkpoints.CheckpointTestFiles;

namespace DroSharp.Models.Tests.Checkpoints;

public sealed class SafetensorsReaderTests : IDisposable
{
    private readonly CheckpointTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    // ---- the golden fixture -------------------------------------------------------------------

    [Fact]
    public void GoldenModelLoadsEveryTensorWithHfNamesAndShapes()
    {
        using var r = SafetensorsReader.Open(Path.Combine(TinyFixture, "model.safetensors"));
        Assert.Equal(52, r.Tensors.Count);
        Assert.Equal("pt", r.Metadata!["format"]);
        Assert.Equal("t5-tiny", r.Metadata["config"]);

        var expected = new Dictionary<string, long[]>
        {
            ["shared.weight"] = [128, 32],
            ["lm_head.weight"] = [128, 32],
            ["encoder.final_layer_norm.weight"] = [32],
            ["decoder.final_layer_norm.weight"] = [32],
            ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = [32, 4],
            ["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = [32, 4],
        };
        foreach (string stack in new[] { "encoder", "decoder" })
        {
            for (int i = 0; i < 2; i++)
            {
                string b = $"{stack}.block.{i}";
                foreach (string p in new[] { "q", "k", "v", "o" }) expected[$"{b}.layer.0.SelfAttention.{p}.weight"] = [32, 32];
                expected[$"{b}.layer.0.layer_norm.weight"] = [32];
                int ff = stack == "encoder" ? 1 : 2;
                if (stack == "decoder")
                {
                    foreach (string p in new[] { "q", "k", "v", "o" }) expected[$"{b}.layer.1.EncDecAttention.{p}.weight"] = [32, 32];
                    expected[$"{b}.layer.1.layer_norm.weight"] = [32];
                }
                expected[$"{b}.layer.{ff}.DenseReluDense.wi_0.weight"] = [64, 32];
                expected[$"{b}.layer.{ff}.DenseReluDense.wi_1.weight"] = [64, 32];
                expected[$"{b}.layer.{ff}.DenseReluDense.wo.weight"] = [32, 64];
                expected[$"{b}.layer.{ff}.layer_norm.weight"] = [32];
            }
        }
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), r.TensorNames.Order(StringComparer.Ordinal));

        foreach (var (name, shape) in expected)
        {
            var info = r.GetInfo(name);
            Assert.Equal(SafetensorsDtype.F32, info.Dtype);
            Assert.Equal(shape, info.Shape);
            using var t = r.ReadTensor(name);
            Assert.Equal(name, t.Name);
            Assert.True(info.ShapeEquals(t.Shape));
            Assert.All(t.ToArray(), v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void GoldenTensorValuesMatchTheRawLittleEndianBytes()
    {
        string path = Path.Combine(TinyFixture, "model.safetensors");
        byte[] file = File.ReadAllBytes(path);
        using var r = SafetensorsReader.Open(path);
        var info = r.GetInfo("encoder.block.1.layer.1.DenseReluDense.wo.weight");
        using var t = r.ReadTensor(info.Name);
        long start = r.Header.DataStart + info.DataBegin;
        for (int i = 0; i < t.Length; i++)
            Assert.Equal(BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan((int)(start + 4 * i))), t[i]);
        Assert.NotEqual(0f, t.ToArray().Select(MathF.Abs).Max());
    }

    [Fact]
    public void GoldenExpectedFileHasInt64BucketTablesAndAScalarLoss()
    {
        using var r = SafetensorsReader.Open(Path.Combine(TinyFixture, "expected.safetensors"));
        var info = r.GetInfo("buckets.bidirectional");
        Assert.Equal(SafetensorsDtype.I64, info.Dtype);
        long[] buckets = r.ReadInt64("buckets.bidirectional");
        Assert.Equal(601, buckets.Length);
        Assert.All(buckets, b => Assert.InRange(b, 0, 31));
        // Offset 0 (index 300) is bucket 0 in both directions; T5's buckets are symmetric in count.
        Assert.Equal(0, buckets[300]);
        Assert.NotEqual(buckets[299], buckets[301]);

        var e = Assert.Throws<CheckpointFormatException>(() => r.ReadTensor("buckets.bidirectional"));
        Assert.Contains("buckets.bidirectional", e.Message);
        Assert.Contains("I64", e.Message);
        Assert.Contains("ReadInt64", e.Message);

        using var loss = r.ReadTensor("loss");
        Assert.Equal(0, loss.Shape.Rank);
        Assert.Equal(1, loss.Length);
        Assert.True(loss[0] > 0);
    }

    [Fact]
    public void MissingTensorNamesTheFileAndTensor()
    {
        using var r = SafetensorsReader.Open(Path.Combine(TinyFixture, "value.safetensors"));
        var e = Assert.Throws<CheckpointFormatException>(() => r.ReadTensor("lm_head.weight"));
        Assert.Contains("value.safetensors", e.Message);
        Assert.Equal("lm_head.weight", e.Key);
    }

    [Fact]
    public void ReadIntoChecksTheShape()
    {
        using var r = SafetensorsReader.Open(Path.Combine(TinyFixture, "value.safetensors"));
        using var wrong = Tensor.Zeros(32, 128);
        var e = Assert.Throws<CheckpointFormatException>(() => r.ReadInto("shared.weight", wrong));
        Assert.Contains("[128, 32]", e.Message);
        using var right = Tensor.Zeros(128, 32);
        r.ReadInto("shared.weight", right);
        using var direct = r.ReadTensor("shared.weight");
        Assert.Equal(direct.ToArray(), right.ToArray());
    }

    // ---- valid edge cases ---------------------------------------------------------------------

    [Fact]
    public void EmptyTensorsScalarsAndAnEmptyFileAreValid()
    {
        string header = "{\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]},"
                      + "\"also_empty\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[0,0]},"
                      + "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
        string path = _files.Write("edge.safetensors", Build(header, Floats(2.5f)));
        using (var r = SafetensorsReader.Open(path))
        {
            Assert.Null(r.Metadata);
            Assert.Equal(3, r.Tensors.Count);
            using var empty = r.ReadTensor("empty");
            Assert.Equal(new Shape(0, 5), empty.Shape);
            Assert.Equal(0, empty.Length);
            using var scalar = r.ReadTensor("scalar");
            Assert.Equal(Shape.Scalar, scalar.Shape);
            Assert.Equal(2.5f, scalar[0]);
        }

        string none = _files.Write("none.safetensors", Build("{}", []));
        using (var r = SafetensorsReader.Open(none)) Assert.Empty(r.Tensors);
    }

    [Fact]
    public void LeadingWhitespaceAndTensorsInAnyHeaderOrderAreAcceptedLikeTheReference()
    {
        // The reference sorts entries by offsets, and serde_json skips JSON whitespace before '{'.
        string header = " \n\t{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                      + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"__metadata__\":{\"k\":\"v\"}}";
        string path = _files.Write("ws.safetensors", Build(header, Floats(1f, 2f)));
        using var r = SafetensorsReader.Open(path);
        Assert.Equal(["a", "b"], r.TensorNames);
        Assert.Equal("v", r.Metadata!["k"]);
        using var b = r.ReadTensor("b");
        Assert.Equal(2f, b[0]);
    }

    [Fact]
    public void UnknownFieldsInATensorEntryAreIgnoredLikeTheReference()
    {
        string header = "{\"a\":{\"dtype\":\"F32\",\"extra\":{\"x\":[1,2]},\"shape\":[1],\"data_offsets\":[0,4]}}";
        using var r = SafetensorsReader.Open(_files.Write("extra.safetensors", Build(header, Floats(3f))));
        using var a = r.ReadTensor("a");
        Assert.Equal(3f, a[0]);
    }

    [Fact]
    public void F64IsRoundedToFloat32AndIntegerDtypesReadAsInt64()
    {
        var data = new byte[8 * 2 + 4 * 3 + 1 * 2];
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(0), 1.0 / 3.0);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), -1e300);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(16), -7);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(20), int.MaxValue);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(24), 0);
        data[28] = 200;
        data[29] = 1;
        string header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                      + "\"i\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[16,28]},"
                      + "\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[28,30]}}";
        using var r = SafetensorsReader.Open(_files.Write("mixed.safetensors", Build(header, data)));
        using var d = r.ReadTensor("d");
        Assert.Equal((float)(1.0 / 3.0), d[0]);
        Assert.Equal(float.NegativeInfinity, d[1]);
        Assert.Equal([-7L, int.MaxValue, 0L], r.ReadInt64("i"));
        Assert.Equal([200L, 1L], r.ReadInt64("u"));
        Assert.Throws<CheckpointFormatException>(() => r.ReadInt64("d"));
    }

    [Fact]
    public void AllF16AndBF16BitPatternsReadExactly()
    {
        var data = new byte[2 * 65536 * 2];
        for (int i = 0; i < 65536; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), (ushort)i);
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * 65536 + 2 * i), (ushort)i);
        }
        string header = "{\"bf\":{\"dtype\":\"BF16\",\"shape\":[256,256],\"data_offsets\":[0,131072]},"
                      + "\"h\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[131072,262144]}}";
        using var r = SafetensorsReader.Open(_files.Write("half.safetensors", Build(header, data)));
        using var bf = r.ReadTensor("bf");
        using var h = r.ReadTensor("h");
        for (int i = 0; i < 65536; i++)
        {
            AssertSame(FloatConversionsTests.BFloat16Value((ushort)i), bf[i], i);
            AssertSame(FloatConversionsTests.HalfValue((ushort)i), h[i], i);
        }

        static void AssertSame(double expected, float actual, int bits)
        {
            if (double.IsNaN(expected)) Assert.True(float.IsNaN(actual), $"bits {bits:x4}");
            else Assert.True(expected == actual && double.IsNegative(expected) == float.IsNegative(actual), $"bits {bits:x4}: {expected} vs {actual}");
        }
    }

    // ---- hostile and malformed files ----------------------------------------------------------

    private CheckpointFormatException Rejects(byte[] file, params string[] phrases)
    {
        string path = _files.Write($"bad-{Guid.NewGuid():N}.safetensors", file);
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsReader.Open(path).Dispose());
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path, e.Message);
        foreach (string p in phrases) Assert.Contains(p, e.Message);
        // The in-memory validator agrees with the file reader.
        var m = Assert.Throws<CheckpointFormatException>(() => SafetensorsHeader.Parse(file, "memory"));
        Assert.Equal(e.Key, m.Key);
        return e;
    }

    private static byte[] TwoTensors(string a, string b, int dataBytes) =>
        Build("{\"a\":" + a + ",\"b\":" + b + "}", new byte[dataBytes]);

    private const string A16 = "{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}";

    [Fact]
    public void TooShortForTheLengthPrefix() => Rejects([1, 0, 0], "HeaderTooSmall", "3 bytes");

    [Fact]
    public void HeaderLongerThanTheLimit()
    {
        Rejects(Build("{}", [], headerLength: 100_000_001), "HeaderTooLarge");
        Rejects(Build("{}", [], headerLength: ulong.MaxValue), "HeaderTooLarge");
    }

    [Fact]
    public void HeaderLengthBeyondTheFile() => Rejects(Build("{}", new byte[16], headerLength: 1000), "InvalidHeaderLength", "1000");

    [Fact]
    public void TruncatedFiles()
    {
        byte[] good = File.ReadAllBytes(Path.Combine(TinyFixture, "value.safetensors"));
        Rejects(good[..^1], "truncated", "MetadataIncompleteBuffer");
        Rejects(good[..^4096], "truncated");
        Rejects(good[..100], "InvalidHeaderLength");
        Rejects(good[..7], "HeaderTooSmall");
    }

    [Fact]
    public void TrailingBytesAfterTheLastTensor()
    {
        var data = new byte[20];
        var e = Rejects(Build("{\"a\":" + A16 + "}", data), "4 trailing bytes");
        Assert.Null(e.Key);
    }

    [Fact]
    public void OverlappingOffsets()
    {
        var e = Rejects(TwoTensors(A16, "{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}", 24), "overlapping", "InvalidOffset");
        Assert.Equal("b", e.Key);
        // The same offsets twice.
        Rejects(TwoTensors(A16, A16, 16), "overlapping");
    }

    [Fact]
    public void HoleBetweenTensors()
    {
        var e = Rejects(TwoTensors(A16, "{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[20,36]}", 36), "hole of 4 bytes");
        Assert.Equal("b", e.Key);
        // A hole before the first tensor.
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "hole");
    }

    [Fact]
    public void EndBeforeBegin() =>
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}",
            new byte[4]), "before begin");

    [Fact]
    public void ByteLengthDisagreesWithDtypeAndShape()
    {
        var e = Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}", new byte[8]),
            "TensorInvalidInfo", "needs 16 bytes", "span 8");
        Assert.Equal("a", e.Key);
        Rejects(Build("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[16]), "needs 8 bytes");
    }

    [Fact]
    public void SubByteDtypesMustFillWholeBytes()
    {
        Rejects(Build("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", new byte[2]), "MisalignedSlice");
        using var r = SafetensorsReader.Open(_files.Write("f4.safetensors", Build("{\"a\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}", new byte[1])));
        var e = Assert.Throws<CheckpointFormatException>(() => r.ReadTensor("a"));
        Assert.Contains("F4 cannot be read as float32", e.Message);
    }

    [Fact]
    public void ShapeOverflowFailsBeforeAnyAllocation()
    {
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", new byte[4]), "ValidationOverflow");
        Rejects(Build("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", new byte[8]), "ValidationOverflow");
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[18446744073709551615],\"data_offsets\":[0,4]}}", new byte[4]), "2^63");
        // 10^12 elements claimed, consistently, in a tiny file: the buffer check catches it.
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000,1000000],\"data_offsets\":[0,4000000000000]}}", new byte[16]),
            "truncated");
    }

    [Fact]
    public void HeaderThatIsNotUtf8() =>
        Rejects(Build([(byte)'{', (byte)'"', (byte)'a', 0xFF, (byte)'"', (byte)':', (byte)'{', (byte)'}', (byte)'}', 32, 32, 32, 32, 32, 32, 32], []),
            "InvalidHeader", "UTF-8");

    [Fact]
    public void InvalidUtf8ByteInsideAName()
    {
        byte[] header = Encoding.UTF8.GetBytes("{\"a?\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}   ");
        header[3] = 0xC3; // a lead byte followed by '"': not UTF-8
        Rejects(Build(header, []), "InvalidHeader", "UTF-8");
    }

    [Fact]
    public void InvalidJson()
    {
        Rejects(Build("{\"a\":", []), "not valid JSON");
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],}}", []), "not valid JSON");
        Rejects(Build("{} {}", []), "not valid JSON");
        Rejects(Build("{}x", []), "not valid JSON");
        // A lone surrogate escape is not a Unicode string (serde_json refuses it too).
        Rejects(Build("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", []), "not valid JSON");
        Rejects(Build("[]", []), "must be a JSON object");
        Rejects(Build("        ", [], pad: false), "empty");
        // Deep nesting is refused by the JSON reader's depth limit, not by exhausting the stack.
        Rejects(Build("{\"x\":{\"extra\":" + new string('[', 100_000) + new string(']', 100_000) + "}}", []), "not valid JSON");
    }

    [Fact]
    public void DuplicateKeys()
    {
        var e = Rejects(Build("{\"a\":" + A16 + ",\"a\":" + A16 + "}", new byte[16]), "twice");
        Assert.Equal("a", e.Key);
        Rejects(Build("{\"__metadata__\":{},\"__metadata__\":{}}", []), "twice");
        Rejects(Build("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", []), "twice");
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", []), "dtype appears twice");
    }

    [Fact]
    public void MetadataMustMapStringsToStrings()
    {
        var e = Rejects(Build("{\"__metadata__\":{\"epoch\":3}}", []), "must be strings");
        Assert.Equal("__metadata__.epoch", e.Key);
        Rejects(Build("{\"__metadata__\":{\"nested\":{\"a\":\"b\"}}}", []), "must be strings");
        Rejects(Build("{\"__metadata__\":[\"a\"]}", []), "object of strings");
    }

    [Fact]
    public void MalformedTensorEntries()
    {
        Rejects(Build("{\"a\":{\"dtype\":\"F33\",\"shape\":[0],\"data_offsets\":[0,0]}}", []), "unknown dtype \"F33\"");
        Rejects(Build("{\"a\":{\"dtype\":\"f32\",\"shape\":[0],\"data_offsets\":[0,0]}}", []), "unknown dtype");
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", []), "non-negative integers");
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", new byte[8]), "non-negative integers");
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", new byte[4]), "[begin, end]");
        Rejects(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "no data_offsets");
        Rejects(Build("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "no dtype");
        Rejects(Build("{\"a\":[1,2]}", []), "must be an object");
        Rejects(Build("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "dtype must be a string");
    }

    [Fact]
    public void RankAboveFourIsListedButNotReadable()
    {
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}";
        using var r = SafetensorsReader.Open(_files.Write("rank5.safetensors", Build(header, Floats(1, 2))));
        Assert.Equal(5, r.GetInfo("a").Rank);
        var e = Assert.Throws<CheckpointFormatException>(() => r.ReadTensor("a"));
        Assert.Contains("rank 5", e.Message);
    }

    [Fact]
    public void RandomByteCorruptionNeverEscapesAsAnotherException()
    {
        byte[] good = File.ReadAllBytes(Path.Combine(TinyFixture, "value.safetensors"));
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        var rng = new Random(12345);
        int rejected = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] bad = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int f = 0; f < flips; f++) bad[rng.Next(headerEnd)] = (byte)rng.Next(256);
            try
            {
                SafetensorsHeader.Parse(bad, "fuzz");
            }
            catch (CheckpointFormatException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > 100, $"only {rejected} of 300 corruptions were detected");
    }
}
