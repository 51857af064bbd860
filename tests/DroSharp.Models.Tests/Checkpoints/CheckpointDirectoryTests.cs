using System.Text.Json;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;
using static DroSharp.Models.Tests.Checkpoints.CheckpointTestFiles;

namespace DroSharp.Models.Tests.Checkpoints;

public sealed class CheckpointDirectoryTests : IDisposable
{
    private readonly CheckpointTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static string GoldenModel => Path.Combine(TinyFixture, "model.safetensors");

    /// <summary>Every golden tensor, read.</summary>
    private static Dictionary<string, Tensor> GoldenTensors()
    {
        using var r = SafetensorsReader.Open(GoldenModel);
        return r.TensorNames.ToDictionary(n => n, r.ReadTensor);
    }

    /// <summary>Zeroed parameters with the golden names and shapes (what a model would create).</summary>
    private static List<Tensor> FreshParameters(IEnumerable<string>? names = null)
    {
        using var r = SafetensorsReader.Open(GoldenModel);
        var list = new List<Tensor>();
        foreach (string n in names ?? r.TensorNames)
        {
            r.GetInfo(n).TryGetTensorShape(out var shape, out _);
            var p = Tensor.Zeros(shape);
            p.Name = n;
            p.RequiresGrad = true;
            list.Add(p);
        }
        return list;
    }

    /// <summary>Writes the golden tensors into <paramref name="shards"/> files with an index.</summary>
    private string WriteSharded(string name, int shards, Action<Dictionary<string, object>>? editIndex = null)
    {
        string dir = _files.SubDirectory(name);
        var tensors = GoldenTensors();
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var weightMap = new Dictionary<string, string>();
        long total = 0;
        for (int s = 0; s < shards; s++)
        {
            string file = $"model-{s + 1:00000}-of-{shards:00000}.safetensors";
            var part = names.Where((_, i) => i % shards == s).ToList();
            SafetensorsWriter.Save(Path.Combine(dir, file), part.Select(n => tensors[n]));
            foreach (string n in part)
            {
                weightMap[n] = file;
                total += tensors[n].Length * 4L;
            }
        }
        var index = new Dictionary<string, object> { ["metadata"] = new Dictionary<string, object> { ["total_size"] = total }, ["weight_map"] = weightMap };
        editIndex?.Invoke(index);
        File.WriteAllText(Path.Combine(dir, ShardedCheckpointIndex.FileName), JsonSerializer.Serialize(index));
        foreach (var t in tensors.Values) t.Dispose();
        return dir;
    }

    [Fact]
    public void SingleFileDirectoryLoadsAndIgnoresOtherFiles()
    {
        string dir = _files.SubDirectory("single");
        File.Copy(GoldenModel, Path.Combine(dir, "model.safetensors"));
        File.Copy(Path.Combine(TinyFixture, "config.json"), Path.Combine(dir, "config.json"));
        File.WriteAllText(Path.Combine(dir, "README.md"), "# a model");
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), [0x80, 0x02]);

        using var ckpt = CheckpointDirectory.Open(dir);
        Assert.False(ckpt.IsSharded);
        Assert.Equal(52, ckpt.TensorNames.Count);
        Assert.True(File.Exists(ckpt.ConfigPath));
        using var golden = SafetensorsReader.Open(GoldenModel);
        using var a = ckpt.ReadTensor("shared.weight");
        using var b = golden.ReadTensor("shared.weight");
        Assert.Equal(b.ToArray(), a.ToArray());
    }

    [Fact]
    public void ShardedDirectoryGivesTheSameTensorsAsTheSingleFile()
    {
        string dir = WriteSharded("sharded", 3);
        using var ckpt = CheckpointDirectory.Open(dir);
        Assert.True(ckpt.IsSharded);
        Assert.Equal(3, ckpt.Files.Count);
        Assert.Equal(3, ckpt.Index!.ShardFiles.Count);
        Assert.Equal(231936, ckpt.Index.TotalSize);
        using var golden = SafetensorsReader.Open(GoldenModel);
        Assert.Equal(golden.TensorNames.Order(StringComparer.Ordinal), ckpt.TensorNames.Order(StringComparer.Ordinal));
        foreach (string n in golden.TensorNames)
        {
            using var a = ckpt.ReadTensor(n);
            using var b = golden.ReadTensor(n);
            Assert.Equal(b.ToArray(), a.ToArray());
        }
    }

    [Fact]
    public void SingleFileWinsOverAnIndexLikeTransformers()
    {
        string dir = WriteSharded("both", 2);
        using var t = Tensor.FromArray([1f], 1);
        SafetensorsWriter.Save(Path.Combine(dir, "model.safetensors"), [new KeyValuePair<string, Tensor>("only", t)]);
        using var ckpt = CheckpointDirectory.Open(dir);
        Assert.False(ckpt.IsSharded);
        Assert.Equal(["only"], ckpt.TensorNames);
    }

    [Fact]
    public void BadShardIndexesAreClearErrors()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(WriteSharded("missing-shard", 2,
            idx => ((Dictionary<string, string>)idx["weight_map"])["shared.weight"] = "model-nowhere.safetensors")));
        Assert.Contains("model-nowhere.safetensors does not exist", e.Message);
        Assert.Equal("shared.weight", e.Key);

        e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(WriteSharded("wrong-shard", 2,
            idx =>
            {
                var map = (Dictionary<string, string>)idx["weight_map"];
                map["shared.weight"] = map["shared.weight"].Contains("00001") ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
            })));
        Assert.Equal("shared.weight", e.Key);

        e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(WriteSharded("unlisted", 2,
            idx => ((Dictionary<string, string>)idx["weight_map"]).Remove("lm_head.weight"))));
        Assert.Contains("not listed", e.Message);
        Assert.Equal("lm_head.weight", e.Key);

        e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(WriteSharded("escape", 2,
            idx => ((Dictionary<string, string>)idx["weight_map"])["shared.weight"] = "../model-00001-of-00002.safetensors")));
        Assert.Contains("not a plain file name", e.Message);

        e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(WriteSharded("no-map", 2, idx => idx.Remove("weight_map"))));
        Assert.Contains("no weight_map", e.Message);

        string dir = _files.SubDirectory("bad-json");
        File.WriteAllText(Path.Combine(dir, ShardedCheckpointIndex.FileName), "{\"weight_map\": {\"a\": 3}}");
        e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(dir));
        Assert.Equal("weight_map.a", e.Key);
        File.WriteAllText(Path.Combine(dir, ShardedCheckpointIndex.FileName), "{\"weight_map\": ");
        e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(dir));
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void PickleOnlyDirectoryExplainsThatSafetensorsIsRequired()
    {
        string dir = _files.SubDirectory("pickle");
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), [0x80, 0x02]);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(dir));
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("safetensors weights are required", e.Message);

        string empty = _files.SubDirectory("empty");
        e = Assert.Throws<CheckpointFormatException>(() => CheckpointDirectory.Open(empty));
        Assert.Contains("no model.safetensors", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => CheckpointDirectory.Open(Path.Combine(empty, "nope")));
    }

    // ---- StateDictLoader --------------------------------------------------------------------

    [Fact]
    public void LoadsEveryGoldenParameterFromSingleAndShardedDirectories()
    {
        string single = _files.SubDirectory("load-single");
        File.Copy(GoldenModel, Path.Combine(single, "model.safetensors"));
        string sharded = WriteSharded("load-sharded", 4);
        var golden = GoldenTensors();
        foreach (string dir in new[] { single, sharded })
        {
            var parameters = FreshParameters();
            var report = StateDictLoader.Load(dir, parameters);
            Assert.Equal(52, report.Loaded.Count);
            Assert.Empty(report.Missing);
            Assert.Empty(report.Unexpected);
            Assert.Empty(report.Ignored);
            foreach (var p in parameters)
            {
                Assert.Equal(golden[p.Name!].ToArray(), p.ToArray());
                Assert.True(p.RequiresGrad);
                p.Dispose();
            }
        }
        foreach (var t in golden.Values) t.Dispose();
    }

    /// <summary>A directory whose model.safetensors holds the golden tensors renamed/added as given.</summary>
    private string WriteVariant(string name, Func<Dictionary<string, Tensor>, IEnumerable<KeyValuePair<string, Tensor>>> edit,
        SafetensorsDtype dtype = SafetensorsDtype.F32)
    {
        string dir = _files.SubDirectory(name);
        var tensors = GoldenTensors();
        SafetensorsWriter.Save(Path.Combine(dir, "model.safetensors"), edit(tensors).ToList(), dtype);
        return dir;
    }

    [Theory]
    [InlineData("encoder.embed_tokens.weight")]
    [InlineData("decoder.embed_tokens.weight")]
    public void SharedEmbeddingLoadsFromEitherTiedAlias(string alias)
    {
        string dir = WriteVariant("alias-" + alias, t => t.Select(kv => kv.Key == "shared.weight" ? new(alias, kv.Value) : kv));
        var parameters = FreshParameters();
        var report = StateDictLoader.Load(dir, parameters);
        Assert.Contains(("shared.weight", alias), report.Loaded);
        var golden = GoldenTensors();
        Assert.Equal(golden["shared.weight"].ToArray(), parameters.Single(p => p.Name == "shared.weight").ToArray());
    }

    [Fact]
    public void StoredCopiesOfTiedAliasesAreIgnoredWhenEqualAndRefusedWhenNot()
    {
        string dir = WriteVariant("all-aliases", t => t.Concat([
            new("encoder.embed_tokens.weight", t["shared.weight"]),
            new("decoder.embed_tokens.weight", t["shared.weight"]),
            new(StateDictLoader.UnusedCrossAttentionBias, t["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]),
        ]));
        var report = StateDictLoader.Load(dir, FreshParameters());
        Assert.Equal(
            ["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", "decoder.embed_tokens.weight", "encoder.embed_tokens.weight"],
            report.Ignored.Select(i => i.Key).Order(StringComparer.Ordinal));
        Assert.Contains(("shared.weight", "shared.weight"), report.Loaded);

        string differ = WriteVariant("differing-alias", t => t.Concat([new("encoder.embed_tokens.weight", t["lm_head.weight"])]));
        var e = Assert.Throws<CheckpointFormatException>(() => StateDictLoader.Load(differ, FreshParameters()));
        Assert.Equal("encoder.embed_tokens.weight", e.Key);
        Assert.Contains("values differ", e.Message);
    }

    [Fact]
    public void TiedModelIgnoresAStoredLmHead()
    {
        // A tied model (v1.0) has no lm_head parameter; transformers ties a stored lm_head.weight to shared.
        string dir = _files.SubDirectory("tied");
        File.Copy(GoldenModel, Path.Combine(dir, "model.safetensors"));
        var parameters = FreshParameters().Where(p => p.Name != "lm_head.weight").ToList();
        var report = StateDictLoader.Load(dir, parameters);
        Assert.Contains(report.Ignored, i => i.Key == "lm_head.weight" && i.Reason.Contains("tie_word_embeddings"));
    }

    [Fact]
    public void MissingAndUnexpectedTensorsAreErrorsUnlessAllowed()
    {
        string dir = WriteVariant("no-head", t => t.Where(kv => kv.Key != "lm_head.weight").Concat([new("extra.thing", t["shared.weight"])]));
        var e = Assert.Throws<CheckpointFormatException>(() => StateDictLoader.Load(dir, FreshParameters()));
        Assert.Equal("lm_head.weight", e.Key);
        Assert.Contains("not in the checkpoint", e.Message);

        var parameters = FreshParameters();
        e = Assert.Throws<CheckpointFormatException>(() => StateDictLoader.Load(dir, parameters, new StateDictLoadOptions { AllowMissing = true }));
        Assert.Equal("extra.thing", e.Key);
        Assert.All(parameters, p => Assert.All(p.ToArray(), v => Assert.Equal(0f, v))); // nothing read before the error

        var report = StateDictLoader.Load(dir, parameters, new StateDictLoadOptions { AllowMissing = true, AllowUnexpected = true });
        Assert.Equal(["lm_head.weight"], report.Missing);
        Assert.Equal(["extra.thing"], report.Unexpected);
        Assert.All(parameters.Single(p => p.Name == "lm_head.weight").ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ShapeMismatchNamesTheTensorAndLeavesParametersUntouched()
    {
        string dir = _files.SubDirectory("shape");
        File.Copy(GoldenModel, Path.Combine(dir, "model.safetensors"));
        var parameters = FreshParameters().Where(p => p.Name != "lm_head.weight").ToList();
        var head = Tensor.Zeros(64, 32);
        head.Name = "lm_head.weight";
        parameters.Add(head);
        var e = Assert.Throws<CheckpointFormatException>(() => StateDictLoader.Load(dir, parameters));
        Assert.Equal("lm_head.weight", e.Key);
        Assert.Contains("[128, 32]", e.Message);
        Assert.Contains("[64, 32]", e.Message);
        Assert.All(parameters, p => Assert.All(p.ToArray(), v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void ValueModelFileLoadsThroughTheSameLoader()
    {
        using var value = SafetensorsReader.Open(Path.Combine(TinyFixture, "value.safetensors"));
        var parameters = new List<Tensor>();
        foreach (var info in value.Tensors)
        {
            info.TryGetTensorShape(out var shape, out _);
            var p = Tensor.Zeros(shape);
            p.Name = info.Name;
            parameters.Add(p);
        }
        var report = StateDictLoader.Load(value, parameters);
        Assert.Equal(23, report.Loaded.Count);
        Assert.NotEqual(0f, parameters.Single(p => p.Name == "value_head.bias")[0]);

        // Initialising a value encoder from the policy: decoder and head are unexpected, value_head missing.
        foreach (var p in parameters) p.Clear();
        using var policy = SafetensorsReader.Open(GoldenModel);
        report = StateDictLoader.Load(policy, parameters, new StateDictLoadOptions { AllowMissing = true, AllowUnexpected = true });
        Assert.Equal(["value_head.bias", "value_head.weight"], report.Missing.Order(StringComparer.Ordinal));
        Assert.Contains("lm_head.weight", report.Unexpected);
        Assert.Equal(21, report.Loaded.Count);
    }

    [Fact]
    public void BFloat16CheckpointLoadsIntoFloat32Parameters()
    {
        string dir = WriteVariant("bf16", t => t, SafetensorsDtype.BF16);
        var parameters = FreshParameters();
        StateDictLoader.Load(dir, parameters);
        var golden = GoldenTensors();
        foreach (var p in parameters)
        {
            var g = golden[p.Name!];
            for (int i = 0; i < p.Length; i++)
                Assert.Equal(FloatConversions.BFloat16ToSingle(FloatConversions.SingleToBFloat16(g[i])), p[i]);
        }
    }

    [Fact]
    public void SaveWeightsWritesADirectoryTheLoaderReads()
    {
        var golden = GoldenTensors();
        string dir = Path.Combine(_files.Directory, "saved", "nested");
        CheckpointDirectory.SaveWeights(dir, golden.Values, metadata: new Dictionary<string, string> { ["step"] = "10" });
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
        using var ckpt = CheckpointDirectory.Open(dir);
        Assert.Equal("10", ckpt.Files[0].Metadata!["step"]);
        Assert.Equal("pt", ckpt.Files[0].Metadata!["format"]);
        var parameters = FreshParameters();
        StateDictLoader.Load(ckpt, parameters);
        foreach (var p in parameters) Assert.Equal(golden[p.Name!].ToArray(), p.ToArray());
    }
}
