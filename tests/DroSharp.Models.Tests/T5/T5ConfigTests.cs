using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.T5;
using DroSharp.Models.Tests.Checkpoints;
using static DroSharp.Models.Tests.Checkpoints.CheckpointTestFiles;

namespace DroSharp.Models.Tests.T5;

public sealed class T5ConfigTests : IDisposable
{
    private readonly CheckpointTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static string GoldenConfig => Path.Combine(TinyFixture, "config.json");

    /// <summary>Every typed property, for whole-config comparisons.</summary>
    private static object[] Fields(T5Config c) =>
    [
        c.VocabSize, c.DModel, c.DKv, c.DFf, c.NumLayers, c.NumDecoderLayers, c.NumHeads, c.RelativeAttentionNumBuckets,
        c.RelativeAttentionMaxDistance, c.DropoutRate, c.ClassifierDropout, c.LayerNormEpsilon, c.InitializerFactor,
        c.FeedForwardProj, c.DenseActFn, c.IsGatedAct, c.IsEncoderDecoder, c.UseCache, c.PadTokenId ?? -1, c.EosTokenId ?? -1,
        c.DecoderStartTokenId ?? -1, c.TieWordEmbeddings, string.Join("|", c.Architectures ?? ["<null>"]), c.ModelType,
        string.Join(",", c.Extra.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value?.ToJsonString())),
    ];

    [Fact]
    public void GoldenConfigReadsEveryKey()
    {
        var c = T5Config.Load(GoldenConfig);
        Assert.Equal(128, c.VocabSize);
        Assert.Equal(32, c.DModel);
        Assert.Equal(8, c.DKv);
        Assert.Equal(64, c.DFf);
        Assert.Equal(2, c.NumLayers);
        Assert.Equal(2, c.NumDecoderLayers);
        Assert.Equal(4, c.NumHeads);
        Assert.Equal(32, c.InnerDim);
        Assert.Equal(32, c.RelativeAttentionNumBuckets);
        Assert.Equal(128, c.RelativeAttentionMaxDistance);
        Assert.Equal("gated-gelu", c.FeedForwardProj);
        Assert.Equal("gelu_new", c.DenseActFn);
        Assert.True(c.IsGatedAct);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(1e-6, c.LayerNormEpsilon);
        Assert.Equal(0, c.DecoderStartTokenId);
        Assert.Equal(0, c.PadTokenId);
        Assert.Equal(1, c.EosTokenId);
        Assert.Equal(["T5ForConditionalGeneration"], c.Architectures);
        Assert.True(c.IsEncoderDecoder);
        Assert.Equal(0.0, c.DropoutRate);
        Assert.Equal(1.0, c.InitializerFactor);
        Assert.Empty(c.Extra);
    }

    [Fact]
    public void DefaultsAreTransformers()
    {
        var c = T5Config.Parse("{}");
        Assert.Equal([32128, 512, 64, 2048, 6, 6, 8, 32, 128], new[] { c.VocabSize, c.DModel, c.DKv, c.DFf, c.NumLayers, c.NumDecoderLayers, c.NumHeads, c.RelativeAttentionNumBuckets, c.RelativeAttentionMaxDistance });
        Assert.Equal(0.1, c.DropoutRate);
        Assert.Equal(0.0, c.ClassifierDropout);
        Assert.Equal(1e-6, c.LayerNormEpsilon);
        Assert.Equal("relu", c.FeedForwardProj);
        Assert.Equal("relu", c.DenseActFn);
        Assert.False(c.IsGatedAct);
        Assert.True(c.TieWordEmbeddings);
        Assert.True(c.UseCache);
        Assert.Equal(0, c.PadTokenId);
        Assert.Equal(1, c.EosTokenId);
        Assert.Null(c.DecoderStartTokenId);
        Assert.Null(c.Architectures);
        Assert.Equal(Fields(new T5Config()), Fields(c));
    }

    [Fact]
    public void NumDecoderLayersDefaultsToNumLayers()
    {
        Assert.Equal(3, T5Config.Parse("{\"num_layers\": 3}").NumDecoderLayers);
        Assert.Equal(3, T5Config.Parse("{\"num_layers\": 3, \"num_decoder_layers\": null}").NumDecoderLayers);
        Assert.Equal(5, T5Config.Parse("{\"num_layers\": 3, \"num_decoder_layers\": 5}").NumDecoderLayers);
        var c = new T5Config { NumLayers = 4 };
        Assert.Equal(4, c.NumDecoderLayers);
    }

    [Theory]
    [InlineData("relu", "relu", false)]
    [InlineData("gated-gelu", "gelu_new", true)] // the backwards-compatibility special case
    [InlineData("gated-relu", "relu", true)]
    [InlineData("gated-silu", "silu", true)]
    [InlineData("gelu", "gelu", false)]
    [InlineData("gelu_new", "gelu_new", false)]
    [InlineData("gated-gelu_new", "gelu_new", true)]
    public void FeedForwardProjDerivesActivationAsTransformersDoes(string proj, string act, bool gated)
    {
        var c = T5Config.Parse($"{{\"feed_forward_proj\": \"{proj}\"}}");
        Assert.Equal(act, c.DenseActFn);
        Assert.Equal(gated, c.IsGatedAct);
        var d = new T5Config { FeedForwardProj = proj };
        Assert.Equal(act, d.DenseActFn);
        Assert.Equal(gated, d.IsGatedAct);
    }

    [Theory]
    [InlineData("relu-gated")]
    [InlineData("gated-gelu-new")]
    [InlineData("gated-")]
    [InlineData("")]
    public void InvalidFeedForwardProjIsRefused(string proj)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => T5Config.Parse($"{{\"feed_forward_proj\": \"{proj}\"}}", "cfg.json"));
        Assert.Equal("feed_forward_proj", e.Key);
        Assert.StartsWith("cfg.json", e.Message);
        Assert.Throws<ArgumentException>(() => new T5Config { FeedForwardProj = proj });
    }

    [Fact]
    public void StoredActivationKeysOverrideTheDerivationLikeTransformersKwargs()
    {
        var c = T5Config.Parse("{\"feed_forward_proj\": \"gated-gelu\", \"dense_act_fn\": \"gelu\"}");
        Assert.Equal("gelu", c.DenseActFn);
        Assert.True(c.IsGatedAct);
    }

    [Fact]
    public void AliasesMapToCanonicalKeys()
    {
        var c = T5Config.Parse("{\"hidden_size\": 64, \"num_attention_heads\": 2, \"num_hidden_layers\": 3}");
        Assert.Equal(64, c.DModel);
        Assert.Equal(2, c.NumHeads);
        Assert.Equal(3, c.NumLayers);
        Assert.Equal(3, c.NumDecoderLayers);
        Assert.Empty(c.Extra);
        string json = c.ToJson();
        Assert.DoesNotContain("hidden_size", json);
        Assert.Contains("\"d_model\": 64", json);

        Assert.Equal(64, T5Config.Parse("{\"hidden_size\": 64, \"d_model\": 64}").DModel);
        var e = Assert.Throws<CheckpointFormatException>(() => T5Config.Parse("{\"hidden_size\": 64, \"d_model\": 512}"));
        Assert.Equal("hidden_size", e.Key);
        Assert.Contains("d_model says 512", e.Message);
    }

    [Fact]
    public void RoundTripPreservesEveryFieldAndUnknownKeys()
    {
        string json = File.ReadAllText(GoldenConfig).TrimEnd().TrimEnd('}') +
            ",\"n_positions\": 512, \"output_past\": true, \"torch_dtype\": \"float32\", \"transformers_version\": \"4.23.1\"," +
            "\"task_specific_params\": {\"summarization\": {\"prefix\": \"summarize: \", \"num_beams\": 4}}, \"_name_or_path\": \"x/é\"}";
        var c = T5Config.Parse(json);
        Assert.Equal(6, c.Extra.Count);
        Assert.Equal(512, c.Extra["n_positions"]!.GetValue<int>());

        string path = _files.PathFor("config.json");
        c.Save(path);
        var back = T5Config.Load(path);
        Assert.Equal(Fields(c), Fields(back));
        Assert.Equal("summarize: ", back.Extra["task_specific_params"]!["summarization"]!["prefix"]!.GetValue<string>());

        // transformers' layout: sorted keys, 2-space indent, Python float spelling, trailing newline.
        string text = File.ReadAllText(path);
        Assert.EndsWith("}\n", text);
        using var doc = JsonDocument.Parse(text);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Contains("\n  \"d_model\": 32,", text);
        Assert.Contains("\"layer_norm_epsilon\": 1e-06", text);
        Assert.Contains("\"dropout_rate\": 0.0", text);
        Assert.Contains("\"initializer_factor\": 1.0", text);
        Assert.Contains("\"_name_or_path\": \"x/é\"", text);
        Assert.Empty(Directory.GetFiles(_files.Directory, "*.tmp"));
        Assert.Empty(Directory.GetFiles(_files.Directory, ".*"));

        // The golden file, re-read after a round trip, is the same config.
        var golden = T5Config.Load(GoldenConfig);
        Assert.Equal(Fields(golden), Fields(T5Config.Parse(golden.ToJson())));
    }

    [Fact]
    public void CloneIsDeep()
    {
        var c = T5Config.Parse("{\"task_specific_params\": {\"a\": 1}, \"architectures\": [\"X\"]}");
        var d = c.Clone();
        d.DModel = 8;
        ((JsonObject)d.Extra["task_specific_params"]!)["a"] = 2;
        Assert.Equal(512, c.DModel);
        Assert.Equal(1, c.Extra["task_specific_params"]!["a"]!.GetValue<int>());
        Assert.Equal(Fields(c).Length, Fields(d).Length);
    }

    [Theory]
    [InlineData("{\"d_model\": \"512\"}", "d_model", "expected an integer")]
    [InlineData("{\"d_model\": 512.5}", "d_model", "expected an integer")]
    [InlineData("{\"d_model\": 1e3}", "d_model", "expected an integer")]
    [InlineData("{\"d_model\": 0}", "d_model", "at least 1")]
    [InlineData("{\"num_heads\": -2}", "num_heads", "at least 1")]
    [InlineData("{\"vocab_size\": 4294967296}", "vocab_size", "expected an integer")]
    [InlineData("{\"dropout_rate\": 1.5}", "dropout_rate", "[0, 1)")]
    [InlineData("{\"dropout_rate\": \"0.1\"}", "dropout_rate", "expected a number")]
    [InlineData("{\"layer_norm_epsilon\": 0}", "layer_norm_epsilon", "positive")]
    [InlineData("{\"tie_word_embeddings\": \"yes\"}", "tie_word_embeddings", "true or false")]
    [InlineData("{\"tie_word_embeddings\": 1}", "tie_word_embeddings", "true or false")]
    [InlineData("{\"model_type\": \"bart\"}", "model_type", "\"t5\"")]
    [InlineData("{\"architectures\": \"T5ForConditionalGeneration\"}", "architectures", "list of strings")]
    [InlineData("{\"vocab_size\": 128, \"pad_token_id\": 200}", "pad_token_id", "[0, vocab_size = 128)")]
    [InlineData("{\"eos_token_id\": [1, 2]}", "eos_token_id", "expected an integer")]
    [InlineData("{\"relative_attention_num_buckets\": 2}", "relative_attention_num_buckets", "at least 4")]
    [InlineData("{\"relative_attention_max_distance\": 16}", "relative_attention_max_distance", "exceed")]
    [InlineData("{\"d_model\": 32, \"d_model\": 64}", "d_model", "twice")]
    [InlineData("{\"feed_forward_proj\": 3}", "feed_forward_proj", "expected a string")]
    public void BadValuesNameTheKey(string json, string key, string phrase)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => T5Config.Parse(json, "model/config.json"));
        Assert.Equal(key, e.Key);
        Assert.Contains(phrase, e.Message);
        Assert.StartsWith("model/config.json: '" + key + "'", e.Message);
    }

    [Fact]
    public void NonObjectsAndBrokenJsonAreRefused()
    {
        Assert.Contains("JSON object", Assert.Throws<CheckpointFormatException>(() => T5Config.Parse("[1]")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<CheckpointFormatException>(() => T5Config.Parse("{\"d_model\": ")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<CheckpointFormatException>(() => T5Config.Parse("{\"d_model\": NaN}")).Message);
    }

    [Fact]
    public void NullTokenIdsAreKeptAsNull()
    {
        var c = T5Config.Parse("{\"pad_token_id\": null, \"decoder_start_token_id\": null}");
        Assert.Null(c.PadTokenId);
        Assert.Null(c.DecoderStartTokenId);
        Assert.Contains("\"pad_token_id\": null", c.ToJson());
    }

    [Fact]
    public void InnerDimMayDifferFromDModel()
    {
        var c = T5Presets.Get("flan-t5-small");
        Assert.Equal(384, c.InnerDim);
        Assert.Equal(512, c.DModel);
    }

    [Fact]
    public void WritingAnInvalidConfigIsRefused()
    {
        var c = new T5Config { DModel = 0 };
        Assert.Contains("d_model", Assert.Throws<ArgumentException>(() => c.ToJson()).Message);
        var d = new T5Config();
        d.Extra["d_model"] = 3;
        Assert.Contains("Extra", Assert.Throws<ArgumentException>(() => d.Save(_files.PathFor("x.json"))).Message);
        Assert.False(File.Exists(_files.PathFor("x.json")));
    }
}
