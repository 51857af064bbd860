using System.Text.Json;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Lora;
using DroSharp.Tensors;

namespace DroSharp.Models.Tests.Lora;

/// <summary>
/// PEFT's on-disk format: adapter_config.json with exactly the keys PEFT 0.18.1's save_pretrained writes,
/// adapter_model.safetensors with <c>base_model.model.&lt;module&gt;.lora_A.weight</c> [r, in] and
/// <c>.lora_B.weight</c> [out, r]; saving and loading back; refusing what is not implemented, by key.
/// </summary>
public sealed class PeftFormatTests
{
    /// <summary>The keys of adapter_config.json as PEFT 0.18.1 writes them for LoraConfig (json.dumps sort_keys).</summary>
    private static readonly string[] Peft0181Keys =
    [
        "alora_invocation_tokens", "alpha_pattern", "arrow_config", "auto_mapping", "base_model_name_or_path", "bias", "corda_config",
        "ensure_weight_tying", "eva_config", "exclude_modules", "fan_in_fan_out", "inference_mode", "init_lora_weights", "layer_replication",
        "layers_pattern", "layers_to_transform", "loftq_config", "lora_alpha", "lora_bias", "lora_dropout", "megatron_config", "megatron_core",
        "modules_to_save", "peft_type", "peft_version", "qalora_group_size", "r", "rank_pattern", "revision", "target_modules",
        "target_parameters", "task_type", "trainable_token_indices", "use_dora", "use_qalora", "use_rslora",
    ];

    private static LoraPolicyModel Adapted(string baseDir, LoraOptions options, ulong seed = 1)
    {
        var basePolicy = LoraModelSet.LoadBase(baseDir, BaseWeightDtype.Float32);
        var m = LoraPolicyModel.Create(basePolicy, baseDir, options, new DeterministicRandom(seed));
        LoraTestFiles.PerturbB(m.Adapters, seed + 1);
        return m;
    }

    [Fact]
    public void DecoderAdapterFilesHavePeftsNamesShapesAndConfigKeys()
    {
        using var files = new LoraTestFiles();
        string baseDir = LoraTestFiles.BaseOf("qwen3");
        using var m = Adapted(baseDir, new LoraOptions { Rank = 4, Alpha = 16, Dropout = 0.05 });
        string dir = files.PathFor("adapter");
        m.Save(dir);
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());

        string text = File.ReadAllText(Path.Combine(dir, "adapter_config.json"));
        Assert.StartsWith("{\n  \"alora_invocation_tokens\": null,\n  \"alpha_pattern\": {},\n", text);
        Assert.EndsWith("\n  \"use_rslora\": false\n}", text); // no final newline, as json.dumps
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        Assert.Equal(Peft0181Keys, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("LORA", root.GetProperty("peft_type").GetString());
        Assert.Equal("CAUSAL_LM", root.GetProperty("task_type").GetString());
        Assert.Equal(4, root.GetProperty("r").GetInt32());
        Assert.Equal("16", root.GetProperty("lora_alpha").GetRawText());
        Assert.Equal("0.05", root.GetProperty("lora_dropout").GetRawText());
        Assert.Equal("none", root.GetProperty("bias").GetString());
        Assert.False(root.GetProperty("fan_in_fan_out").GetBoolean());
        Assert.False(root.GetProperty("use_rslora").GetBoolean());
        Assert.True(root.GetProperty("inference_mode").GetBoolean());
        Assert.Equal(Path.GetFullPath(baseDir), root.GetProperty("base_model_name_or_path").GetString());
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"],
            root.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("modules_to_save").ValueKind);

        // qwen3 golden: hidden 64, 4 heads × 32 (q 128), 2 KV heads (k/v 64), MLP 128, 3 layers.
        using var reader = SafetensorsReader.Open(Path.Combine(dir, "adapter_model.safetensors"));
        var expected = new Dictionary<string, (int In, int Out)>
        {
            ["self_attn.q_proj"] = (64, 128), ["self_attn.k_proj"] = (64, 64), ["self_attn.v_proj"] = (64, 64), ["self_attn.o_proj"] = (128, 64),
            ["mlp.gate_proj"] = (64, 128), ["mlp.up_proj"] = (64, 128), ["mlp.down_proj"] = (128, 64),
        };
        var names = new List<string>();
        for (int layer = 0; layer < 3; layer++)
            foreach (var (module, (inF, outF)) in expected)
            {
                string key = $"base_model.model.model.layers.{layer}.{module}";
                Assert.Equal([4L, inF], reader.GetInfo(key + ".lora_A.weight").Shape);
                Assert.Equal([(long)outF, 4L], reader.GetInfo(key + ".lora_B.weight").Shape);
                Assert.Equal(SafetensorsDtype.F32, reader.GetInfo(key + ".lora_A.weight").Dtype);
                names.Add(key + ".lora_A.weight");
                names.Add(key + ".lora_B.weight");
            }
        Assert.Equal(names.Order(StringComparer.Ordinal), reader.TensorNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void T5AdapterIsASeq2SeqAdapterOnTheNamedModules()
    {
        using var files = new LoraTestFiles();
        using var m = Adapted(LoraTestFiles.BaseOf("t5-tiny"), new LoraOptions { Rank = 2, Alpha = 3, Targets = ["q", "EncDecAttention.v"], UseRsLora = true });
        string dir = files.PathFor("adapter");
        m.Save(dir);
        var config = PeftAdapterConfig.Load(dir);
        Assert.Equal("SEQ_2_SEQ_LM", config.TaskType);
        Assert.True(config.UseRsLora);
        Assert.Equal(3 / Math.Sqrt(2), config.Scale, 12);
        Assert.Equal(["EncDecAttention.v", "q"], config.TargetModules);
        using var reader = SafetensorsReader.Open(Path.Combine(dir, "adapter_model.safetensors"));
        // q of every attention (2 encoder self, 2 decoder self, 2 decoder cross) and v of the 2 cross-attentions.
        Assert.Equal(2 * (6 + 2), reader.TensorNames.Count);
        Assert.Equal([2L, 32], reader.GetInfo("base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight").Shape);
        Assert.Equal([32L, 2], reader.GetInfo("base_model.model.decoder.block.1.layer.1.EncDecAttention.v.lora_B.weight").Shape);
        Assert.False(reader.Contains("base_model.model.decoder.block.1.layer.0.SelfAttention.v.lora_A.weight"));
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("t5-tiny")]
    public void SavedAdapterLoadsBackOntoItsBaseAndScoresBitForBit(string name)
    {
        using var files = new LoraTestFiles();
        using var m = Adapted(LoraTestFiles.BaseOf(name), new LoraOptions { Rank = 3, Alpha = 7, Dropout = 0.1 });
        string dir = files.PathFor("adapter");
        m.Save(dir);
        var rows = LoraTestFiles.Rows(name);
        var before = LoraTestFiles.TokenLogps(m, rows);
        using var loaded = (LoraPolicyModel)ModelFamilies.LoadPolicy(dir); // an adapter directory: base + adapter
        Assert.Equal(m.Adapters.Count, loaded.Adapters.Count);
        Assert.Equal(m.Parameters.All.Select(p => p.Name), loaded.Parameters.All.Select(p => p.Name));
        Assert.All(loaded.Base.Parameters.All, p => Assert.False(p.RequiresGrad));
        var after = LoraTestFiles.TokenLogps(loaded, rows);
        Assert.Equal(0, LoraTestFiles.MaxAbsDiff(before, after));
        var baseOnly = LoraTestFiles.TokenLogps(loaded.Base, rows);
        Assert.True(LoraTestFiles.MaxAbsDiff(before, baseOnly) > 1e-3, "the adapter should change the log-probs");

        // The in-memory names map to the saved keys and back (a checkpoint's resume path).
        foreach (var p in m.Parameters.All) p.Clear();
        PeftAdapterFiles.LoadInto(dir, m.Parameters);
        Assert.Equal(0, LoraTestFiles.MaxAbsDiff(before, LoraTestFiles.TokenLogps(m, rows)));
    }

    [Fact]
    public void AFixtureAdapterFindsItsBaseRelativeToItsDirectory()
    {
        using var m = (LoraPolicyModel)ModelFamilies.LoadPolicy(LoraTestFiles.Adapter("qwen3"));
        Assert.Equal(Path.GetFullPath(LoraTestFiles.BaseOf("qwen3")), m.BaseDirectory);
        Assert.Equal(21, m.Adapters.Count);
        Assert.Equal(2f, m.Adapters[0].Scale);
    }

    /// <summary>Cached decoding runs with the adapter selected at every step (as the full forward does).</summary>
    [Theory]
    [InlineData("qwen3")]
    [InlineData("t5-tiny")]
    public void IncrementalDecodingUsesTheAdapter(string name)
    {
        using var m = LoraPolicyModel.Load(LoraTestFiles.Adapter(name));
        var rows = LoraTestFiles.Rows(name).Take(3).ToList();
        var prompts = rows.Select(r => r.Prompt).ToList();
        var next = rows.Select(r => r.Completion.Take(2).ToArray()).ToList();
        using var tape = new Tensors.Autograd.Tape(recording: false);
        using var _ = tape.Activate();
        var full = m.NextTokenLogits(prompts, next).ToArray();
        var baseFull = m.Base.NextTokenLogits(prompts, next).ToArray();
        using var decoder = m.StartDecoding(prompts, 4);
        decoder.Start();
        decoder.Step(next.Select(t => t[0]).ToArray());
        var cached = decoder.Step(next.Select(t => t[1]).ToArray()).ToArray();
        double scale = full.Max(Math.Abs);
        Assert.True(full.Zip(cached).Max(p => Math.Abs(p.First - p.Second)) < 1e-4 * scale);
        Assert.True(full.Zip(baseFull).Max(p => Math.Abs(p.First - p.Second)) > 1e-2, "the adapter should change the logits");
    }

    private static string CopyFixture(LoraTestFiles files, string name, Action<string>? edit = null)
    {
        string dir = files.PathFor(name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(LoraTestFiles.Adapter(name))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        string config = Path.Combine(dir, "adapter_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"../../decoders/qwen3\"", JsonSerializer.Serialize(LoraTestFiles.BaseOf("qwen3"))));
        edit?.Invoke(dir);
        return dir;
    }

    [Theory]
    [InlineData("\"use_dora\": false", "\"use_dora\": true", "use_dora")]
    [InlineData("\"bias\": \"none\"", "\"bias\": \"all\"", "bias")]
    [InlineData("\"rank_pattern\": {}", "\"rank_pattern\": {\"q_proj\": 8}", "rank_pattern")]
    [InlineData("\"peft_type\": \"LORA\"", "\"peft_type\": \"IA3\"", "peft_type")]
    [InlineData("\"fan_in_fan_out\": false", "\"fan_in_fan_out\": true", "fan_in_fan_out")]
    [InlineData("\"r\": 4", "\"r\": 5", "lora_A.weight")]
    [InlineData("\"task_type\": \"CAUSAL_LM\"", "\"task_type\": \"SEQ_2_SEQ_LM\"", "task_type")]
    public void UnsupportedOrMismatchedConfigsAreRefusedByKey(string from, string to, string key)
    {
        using var files = new LoraTestFiles();
        string dir = CopyFixture(files, "qwen3", d =>
        {
            string p = Path.Combine(d, "adapter_config.json");
            string text = File.ReadAllText(p);
            Assert.Contains(from, text);
            File.WriteAllText(p, text.Replace(from, to));
        });
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFamilies.LoadPolicy(dir));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void BrokenAdapterDirectoriesGiveOneLineErrors()
    {
        using var files = new LoraTestFiles();
        // A pickled adapter only.
        string bin = CopyFixture(files, "qwen3", d =>
        {
            File.Move(Path.Combine(d, "adapter_model.safetensors"), Path.Combine(d, "adapter_model.bin"));
        });
        Assert.Contains("adapter_model.bin", Assert.Throws<CheckpointFormatException>(() => ModelFamilies.LoadPolicy(bin)).Message);

        // A base that is not a local directory.
        string hub = CopyFixture(files, "qwen3", d =>
        {
            string p = Path.Combine(d, "adapter_config.json");
            File.WriteAllText(p, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(p), "\"base_model_name_or_path\": \"[^\"]*\"", "\"base_model_name_or_path\": \"Qwen/Qwen3-0.6B\""));
        });
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFamilies.LoadPolicy(hub));
        Assert.Contains("base_model_name_or_path", e.Message);
        Assert.Contains("Qwen/Qwen3-0.6B", e.Message);

        // A module the base does not have, and a lora_A without its lora_B.
        string Rewrite(Func<string, string> rename, bool dropB)
        {
            return CopyFixture(files, "qwen3", d =>
            {
                string p = Path.Combine(d, "adapter_model.safetensors");
                var tensors = new List<KeyValuePair<string, Tensor>>();
                using (var r = SafetensorsReader.Open(p))
                    foreach (var n in r.TensorNames)
                        if (!(dropB && n.EndsWith("layers.2.mlp.down_proj.lora_B.weight", StringComparison.Ordinal)))
                            tensors.Add(new(rename(n), r.ReadTensor(n)));
                SafetensorsWriter.Save(p, tensors);
                foreach (var t in tensors) t.Value.Dispose();
            });
        }
        string unknown = Rewrite(n => n.Replace("layers.2.", "layers.7."), dropB: false);
        e = Assert.Throws<CheckpointFormatException>(() => ModelFamilies.LoadPolicy(unknown));
        Assert.Contains("model.layers.7.", e.Message);
        string noB = Rewrite(n => n, dropB: true);
        e = Assert.Throws<CheckpointFormatException>(() => ModelFamilies.LoadPolicy(noB));
        Assert.Contains("lora_B", e.Message);

        // An adapter is not a model directory for code that needs config.json.
        var missing = Assert.Throws<FileNotFoundException>(() => ModelFamilies.LoadConfig(LoraTestFiles.Adapter("qwen3")));
        Assert.Contains("dro merge", missing.Message);
        // And not a base.
        Assert.Throws<CheckpointFormatException>(() => LoraModelSet.LoadBase(LoraTestFiles.Adapter("qwen3"), BaseWeightDtype.Float32));
    }

    [Fact]
    public void ConfigParsesWhatPeftWritesAndFormatsNumbersAsPython()
    {
        var c = PeftAdapterConfig.Parse(File.ReadAllText(Path.Combine(LoraTestFiles.Adapter("t5-tiny"), "adapter_config.json")), "t5");
        Assert.Equal(3, c.Rank);
        Assert.Equal(5, c.Alpha);
        Assert.True(c.UseRsLora);
        Assert.Equal("SEQ_2_SEQ_LM", c.TaskType);
        Assert.Equal(c.ToJson(), (c with { }).ToJson());
        // A minimal config of an older PEFT: defaults as PEFT's (r 8, lora_alpha 8, dropout 0), list or pattern targets.
        var old = PeftAdapterConfig.Parse("""{"peft_type": "LORA", "task_type": "CAUSAL_LM", "target_modules": "model\\..*\\.q_proj", "base_model_name_or_path": null}""", "old");
        Assert.Equal((8, 8.0, 0.0), (old.Rank, old.Alpha, old.Dropout));
        Assert.Equal(["model\\..*\\.q_proj"], old.TargetModules);
        Assert.Null(old.BaseModelNameOrPath);

        Assert.Equal("0.05", PeftAdapterConfig.PythonNumber(0.05, integerIfWhole: false));
        Assert.Equal("0.0", PeftAdapterConfig.PythonNumber(0, integerIfWhole: false));
        Assert.Equal("1e-05", PeftAdapterConfig.PythonNumber(1e-5, integerIfWhole: false));
        Assert.Equal("0.0001", PeftAdapterConfig.PythonNumber(1e-4, integerIfWhole: false));
        Assert.Equal("32", PeftAdapterConfig.PythonNumber(32, integerIfWhole: true));
        Assert.Equal("16.5", PeftAdapterConfig.PythonNumber(16.5, integerIfWhole: true));
        Assert.Equal("\"/t\\u00e9st/\\\"a\\\"\"", PeftAdapterConfig.PythonString("/tést/\"a\""));
        Assert.Throws<CheckpointFormatException>(() => PeftAdapterConfig.Parse("[1]", "x"));
        Assert.Throws<CheckpointFormatException>(() => PeftAdapterConfig.Parse("""{"peft_type": "LORA", "r": "8"}""", "x"));
    }
}
