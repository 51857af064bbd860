using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Gguf;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>What the exporter writes (read back with GgufReader) and what it refuses; no llama.cpp here.</summary>
public sealed class GgufExporterTests
{
    private static GgufReader ExportAndOpen(GgufTestFiles files, string modelDir, GgufFileType type = GgufFileType.F32, string name = "out")
    {
        string tok = files.PathFor("tok");
        if (!Directory.Exists(tok)) GgufTestFiles.WriteByteLevelTokenizer(tok, 512);
        string path = files.PathFor(name + ".gguf");
        GgufExporter.Export(modelDir, path, new GgufExportOptions { FileType = type, TokenizerDirectory = tok });
        return GgufReader.Open(path);
    }

    private static float[] Hf(string modelDir, string name)
    {
        using var st = SafetensorsReader.Open(Path.Combine(modelDir, "model.safetensors"));
        using var t = st.ReadTensor(name);
        return t.Span.ToArray();
    }

    [Fact]
    public void PermuteRowsIsConvertHfToGgufsPermute()
    {
        // heads = 2, head_dim = 4, rows of 3: (n, 2, hd/2, in).swapaxes(1, 2) puts row h·4 + 2i + j ← h·4 + 2j + i.
        float[] v = Enumerable.Range(0, 8 * 3).Select(i => (float)i).ToArray();
        float[] p = GgufExporter.PermuteRows(v, heads: 2, headDim: 4, rowLength: 3);
        int[] rowOrder = [0, 2, 1, 3, 4, 6, 5, 7];
        for (int r = 0; r < 8; r++)
            Assert.Equal(v.AsSpan(rowOrder[r] * 3, 3).ToArray(), p.AsSpan(r * 3, 3).ToArray());
    }

    [Fact]
    public void LlamaExportHasTheArchitectureKeysPermutedQkAndNoTiedHead()
    {
        using var files = new GgufTestFiles();
        string dir = GgufTestFiles.Stories260K;
        using var r = ExportAndOpen(files, dir);
        Assert.Equal("llama", r.Architecture);
        Assert.Equal(5, r.GetValue("llama.block_count").AsInt64());
        Assert.Equal(64, r.GetValue("llama.embedding_length").AsInt64());
        Assert.Equal(172, r.GetValue("llama.feed_forward_length").AsInt64());
        Assert.Equal(8, r.GetValue("llama.attention.head_count").AsInt64());
        Assert.Equal(4, r.GetValue("llama.attention.head_count_kv").AsInt64());
        Assert.Equal(512, r.GetValue("llama.context_length").AsInt64());
        Assert.Equal(10000.0, r.GetValue("llama.rope.freq_base").AsDouble());
        Assert.Equal(1e-5, r.GetValue("llama.attention.layer_norm_rms_epsilon").AsDouble(), 1e-9);
        Assert.Equal(GgufValueType.UInt32, r.GetValue("general.file_type").Type);
        Assert.False(r.TryGetTensor("output.weight", out _)); // tied: llama.cpp reuses token_embd
        Assert.Equal(2 + 9 * 5, r.Tensors.Count);
        Assert.Equal([512L, 64], r.GetTensor("token_embd.weight").Shape);
        Assert.Equal([64L], r.GetTensor("blk.0.attn_norm.weight").Dimensions);
        Assert.Equal(GgufExporter.PermuteRows(Hf(dir, "model.layers.2.self_attn.q_proj.weight"), 8, 8, 64), r.ReadTensorFloats("blk.2.attn_q.weight"));
        Assert.Equal(GgufExporter.PermuteRows(Hf(dir, "model.layers.2.self_attn.k_proj.weight"), 4, 8, 64), r.ReadTensorFloats("blk.2.attn_k.weight"));
        Assert.Equal(Hf(dir, "model.layers.2.self_attn.v_proj.weight"), r.ReadTensorFloats("blk.2.attn_v.weight"));
        Assert.Equal(Hf(dir, "model.layers.4.post_attention_layernorm.weight"), r.ReadTensorFloats("blk.4.ffn_norm.weight"));
        Assert.Equal("gpt2", r.GetValue("tokenizer.ggml.model").AsString());
        Assert.Equal(512, r.GetValue("tokenizer.ggml.tokens").Count);
        Assert.Equal(1, r.GetValue("tokenizer.ggml.bos_token_id").AsInt64());
        Assert.Equal(2, r.GetValue("tokenizer.ggml.eos_token_id").AsInt64());
        Assert.True(r.GetValue("tokenizer.ggml.add_bos_token").AsBool());
        Assert.StartsWith("{% for m in messages %}", r.GetValue("tokenizer.chat_template").AsString());
    }

    [Fact]
    public void QwenKeepsHfRowsAndBiasesGemmaStoresOnePlusNorm()
    {
        using var files = new GgufTestFiles();
        string qwen = GgufTestFiles.Decoder("qwen2");
        using (var r = ExportAndOpen(files, qwen, name: "qwen2"))
        {
            Assert.Equal("qwen2", r.Architecture);
            Assert.Equal(Hf(qwen, "model.layers.1.self_attn.q_proj.weight"), r.ReadTensorFloats("blk.1.attn_q.weight"));
            Assert.Equal(Hf(qwen, "model.layers.1.self_attn.k_proj.bias"), r.ReadTensorFloats("blk.1.attn_k.bias"));
        }
        string gemma = GgufTestFiles.Decoder("gemma3_text-plain");
        using (var r = ExportAndOpen(files, gemma, name: "gemma3"))
        {
            Assert.Equal("gemma3", r.Architecture);
            Assert.Equal(5, r.GetValue("gemma3.attention.sliding_window").AsInt64());
            Assert.Equal(3, r.GetValue("gemma3.attention.sliding_window_pattern").AsInt64());
            Assert.Equal(10000.0, r.GetValue("gemma3.rope.freq_base_swa").AsDouble());
            Assert.Equal(1e6, r.GetValue("gemma3.rope.freq_base").AsDouble());
            foreach (var (hf, gg) in new[] { ("model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"),
                         ("model.layers.0.post_attention_layernorm.weight", "blk.0.post_attention_norm.weight"),
                         ("model.layers.0.pre_feedforward_layernorm.weight", "blk.0.ffn_norm.weight"),
                         ("model.layers.0.post_feedforward_layernorm.weight", "blk.0.post_ffw_norm.weight"),
                         ("model.layers.0.self_attn.q_norm.weight", "blk.0.attn_q_norm.weight"), ("model.norm.weight", "output_norm.weight") })
                Assert.Equal(Hf(gemma, hf).Select(x => x + 1f), r.ReadTensorFloats(gg));
            Assert.Equal(Hf(gemma, "model.layers.2.self_attn.k_proj.weight"), r.ReadTensorFloats("blk.2.attn_k.weight"));
        }
    }

    [Fact]
    public void RopeScalingBecomesKeysOrFactorTensors()
    {
        using var files = new GgufTestFiles();
        using (var r = ExportAndOpen(files, GgufTestFiles.Decoder("llama-llama3"), name: "llama3"))
        {
            // transformers' llama3 rule at head_dim 16, theta 5e5, factor 8, low 1, high 4, original 64.
            var f = r.ReadTensorFloats("rope_freqs.weight");
            Assert.Equal(8, f.Length);
            Assert.Equal(1f, f[0]);
            Assert.Equal(8f, f[^1]);
            Assert.True(f.Zip(f.Skip(1)).All(p => p.Second >= p.First));
            Assert.False(r.TryGetValue("llama.rope.scaling.type", out _));
        }
        using (var r = ExportAndOpen(files, GgufTestFiles.Decoder("llama-yarn"), name: "yarn"))
        {
            Assert.Equal("yarn", r.GetValue("llama.rope.scaling.type").AsString());
            Assert.Equal(8.0, r.GetValue("llama.rope.scaling.factor").AsDouble()); // 4.55: max_position_embeddings / original
            Assert.Equal(32, r.GetValue("llama.rope.scaling.original_context_length").AsInt64());
        }
        using (var r = ExportAndOpen(files, GgufTestFiles.Decoder("llama-linear"), name: "linear"))
        {
            Assert.Equal("linear", r.GetValue("llama.rope.scaling.type").AsString());
            Assert.Equal(2.0, r.GetValue("llama.rope.scaling.factor").AsDouble());
        }
        using (var r = ExportAndOpen(files, GgufTestFiles.Decoder("phi3-su"), name: "phi3su"))
        {
            Assert.Equal([1.0f, 1.2f, 1.6f, 2.2f, 3.0f, 4.0f, 5.5f, 7.0f], r.ReadTensorFloats("rope_factors_long.weight"));
            Assert.Equal(1.05f, r.ReadTensorFloats("rope_factors_short.weight")[1]);
            Assert.Equal(Math.Sqrt(1 + Math.Log(4) / Math.Log(32)), r.GetValue("phi3.rope.scaling.attn_factor").AsDouble(), 1e-6);
            Assert.True(r.TryGetTensor("blk.0.attn_qkv.weight", out _));
            Assert.Equal([256L, 64], r.GetTensor("blk.0.ffn_up.weight").Shape);
        }
    }

    [Fact]
    public void Q8_0KeepsVectorsF32AndFallsBackToF16ForRowsNotWholeBlocks()
    {
        using var files = new GgufTestFiles();
        using var r = ExportAndOpen(files, GgufTestFiles.Stories260K, GgufFileType.Q8_0);
        Assert.Equal((long)GgufFileType.Q8_0, r.GetValue("general.file_type").AsInt64());
        Assert.Equal(GgufTensorType.Q8_0, r.GetTensor("blk.0.attn_q.weight").Type);
        Assert.Equal(GgufTensorType.Q8_0, r.GetTensor("token_embd.weight").Type);
        Assert.Equal(GgufTensorType.F16, r.GetTensor("blk.0.ffn_down.weight").Type); // rows of 172
        Assert.Equal(GgufTensorType.F32, r.GetTensor("blk.0.attn_norm.weight").Type);
        var hf = Hf(GgufTestFiles.Stories260K, "model.layers.0.mlp.up_proj.weight");
        var q = new byte[hf.Length / 32 * 34];
        GgufQ8_0.Quantize(hf, q);
        Assert.Equal(q, r.ReadTensorBytes("blk.0.ffn_up.weight"));
    }

    public static TheoryData<string, string> RefusedGoldens => new()
    {
        { "gemma2", "query_pre_attn_scalar" },
        { "gemma3_text", "query_pre_attn_scalar" },
        { "mistral-swa", "sliding_window" },
        { "phi3-longrope-partial", "sliding_window" },
        { "qwen2-swa", "layer_types" },
        { "qwen3", "attention_bias" },
        { "qwen3-swa", "layer_types" },
        { "smollm3-nope-swa", "layer_types" },
    };

    [Theory]
    [MemberData(nameof(RefusedGoldens))]
    public void GoldensLlamaCppCannotRepresentAreRefused(string golden, string key)
    {
        using var files = new GgufTestFiles();
        string tok = files.PathFor("tok");
        GgufTestFiles.WriteByteLevelTokenizer(tok, 512);
        string path = files.PathFor("refused.gguf");
        var e = Assert.Throws<GgufExportException>(() =>
            GgufExporter.Export(GgufTestFiles.Decoder(golden), path, new GgufExportOptions { TokenizerDirectory = tok }));
        Assert.Equal(key, e.Key);
        Assert.Contains("llama.cpp", e.Message);
        Assert.EndsWith("config.json", e.FilePath);
        Assert.False(File.Exists(path));
    }

    public static TheoryData<string, string, string, string> RefusedEdits => new()
    {
        { "smollm3", """{"no_rope_layers": [1, 0, 1, 1]}""", "no_rope_layers", "every 4th layer" },
        { "gemma3_text-plain", """{"final_logit_softcapping": 30.0}""", "final_logit_softcapping", "no final logit soft-capping" },
        { "gemma3_text-plain", """{"layer_types": ["full_attention", "sliding_attention", "sliding_attention"]}""", "layer_types", "not periodic" },
        { "llama-linear", """{"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}""", "rope_scaling.rope_type", "dynamic" },
        { "qwen2", """{"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}""", "rope_scaling.rope_type", "not exported" },
        { "llama-yarn", """{"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "attention_factor": 0.8}}""", "rope_scaling.attention_factor", "explicit" },
        { "llama-linear", """{"model_type": "t5"}""", "model_type", "not exported" },
        { "llama-linear", """{"hidden_act": "gelu"}""", "hidden_act", "SiLU" },
        { "gemma", """{"hidden_act": "gelu"}""", "hidden_activation", "tanh" },
        { "phi3", """{"partial_rotary_factor": 0.4375}""", "partial_rotary_factor", "rotary" },
    };

    [Theory]
    [MemberData(nameof(RefusedEdits))]
    public void SwitchesLlamaCppCannotRepresentAreRefused(string golden, string edit, string key, string fragment)
    {
        using var files = new GgufTestFiles();
        string tok = files.PathFor("tok");
        GgufTestFiles.WriteByteLevelTokenizer(tok, 512);
        var changes = JsonNode.Parse(edit)!.AsObject();
        string dir = files.CopyModel(GgufTestFiles.Decoder(golden), "model", c =>
        {
            foreach (var (k, v) in changes) c[k] = v?.DeepClone();
        });
        var e = Assert.Throws<GgufExportException>(() =>
            GgufExporter.Export(dir, files.PathFor("x.gguf"), new GgufExportOptions { TokenizerDirectory = tok }));
        Assert.Equal(key, e.Key);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void MissingTokenizerAndBadWeightsAreClearErrors()
    {
        using var files = new GgufTestFiles();
        string dir = files.CopyModel(GgufTestFiles.Stories260K, "stories");
        var e = Assert.Throws<GgufExportException>(() => GgufExporter.Export(dir, files.PathFor("x.gguf")));
        Assert.Contains("no tokenizer.json", e.Message);

        // A NaN weight: refused, and the failed write leaves no file behind.
        string bad = files.PathFor("nan");
        Directory.CreateDirectory(bad);
        File.Copy(Path.Combine(dir, "config.json"), Path.Combine(bad, "config.json"));
        using (var src = SafetensorsReader.Open(Path.Combine(dir, "model.safetensors")))
        {
            var tensors = src.TensorNames.Select(n => src.ReadTensor(n)).ToList();
            tensors.First(t => t.Name == "model.norm.weight").Span[3] = float.NaN;
            SafetensorsWriter.Save(Path.Combine(bad, "model.safetensors"), tensors);
            foreach (var t in tensors) t.Dispose();
        }
        GgufTestFiles.WriteByteLevelTokenizer(bad, 512);
        string outPath = files.PathFor("nan.gguf");
        e = Assert.Throws<GgufExportException>(() => GgufExporter.Export(bad, outPath));
        Assert.Equal("model.norm.weight", e.Key);
        Assert.False(File.Exists(outPath));
        Assert.Empty(Directory.GetFiles(files.Directory, "*.tmp"));
    }

    private static JsonElement PreTokenizerOf(string tokenizerJson)
    {
        using var doc = JsonDocument.Parse(tokenizerJson);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void PreTokenizersAreRecognisedFromTheirDefinition()
    {
        string gpt2 = File.ReadAllText(GgufTestFiles.TextFixture("gpt2-bpe.tokenizer.json"));
        Assert.Equal("gpt-2", GgufTokenizerExport.IdentifyPreTokenizer(PreTokenizerOf(gpt2), "gpt2"));
        using var gz = new GZipStream(File.OpenRead(GgufTestFiles.TextFixture("qwen3-bpe.tokenizer.json.gz")), CompressionMode.Decompress);
        string qwen3 = new StreamReader(gz).ReadToEnd();
        Assert.Equal("qwen2", GgufTokenizerExport.IdentifyPreTokenizer(PreTokenizerOf(qwen3), "qwen3"));

        string Split(string regex) =>
            "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": " + JsonSerializer.Serialize(regex)
            + "}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]}}";
        const string llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        Assert.Equal("llama-bpe", GgufTokenizerExport.IdentifyPreTokenizer(PreTokenizerOf(Split(llama3)), "llama3"));
        const string smollm = """{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}}""";
        Assert.Equal("smollm", GgufTokenizerExport.IdentifyPreTokenizer(PreTokenizerOf(smollm), "smollm"));
        var e = Assert.Throws<GgufExportException>(() => GgufTokenizerExport.IdentifyPreTokenizer(PreTokenizerOf(Split(llama3.Replace("{1,3}", "{1,4}"))), "odd"));
        Assert.Contains("TokenizerPre", e.Message);
    }
}
