using System.Text.Json.Nodes;
using DroSharp.Models.Decoder;
using DroSharp.Models.Gguf;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>
/// The exporter reads config.json on its own (<see cref="HfDecoderConfig"/>); DroSharp's model reads it with
/// <see cref="DecoderConfig"/>, checked against transformers by the goldens. Both must resolve every value the
/// numerics depend on alike — including the defaults of keys a config leaves out, which differ by model type
/// (a Gemma 3 config without layer_types slides by its sliding_window_pattern, SmolLM3 keeps RoPE off every
/// no_rope_layer_interval-th layer, Gemma 2 soft-caps at 50 / 30 …) — or a file would load into llama.cpp and
/// compute another model.
/// </summary>
public sealed class GgufConfigAgreementTests
{
    public static TheoryData<string> FixtureConfigs()
    {
        var root = GgufTestFiles.FixturesRoot();
        var data = new TheoryData<string>();
        foreach (string dir in Directory.GetDirectories(Path.Combine(root, "decoders")).Concat(Directory.GetDirectories(Path.Combine(root, "gguf"))).Append(GgufTestFiles.Stories260K))
            data.Add(Path.GetRelativePath(root, dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureConfigs))]
    public void FixtureConfigsResolveAlike(string fixture)
    {
        string path = Path.Combine(GgufTestFiles.FixturesRoot(), fixture, "config.json");
        AssertAgree(File.ReadAllText(path), path);
    }

    public static TheoryData<string> TinyPresets() => new(DecoderPresets.Names.Where(n => n.EndsWith("-tiny", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(TinyPresets))]
    public void PresetConfigsAsDroSharpSavesThemResolveAlike(string preset)
    {
        using var files = new GgufTestFiles();
        string path = files.PathFor("config.json");
        DecoderPresets.Get(preset).Save(path);
        AssertAgree(File.ReadAllText(path), path);
    }

    /// <summary>Only the required shape keys (and the switches named): every other value is the model type's default.</summary>
    [Theory]
    [InlineData("llama", "")]
    [InlineData("mistral", "")]
    [InlineData("mistral", """, "sliding_window": null""")]
    [InlineData("qwen2", "")]
    [InlineData("qwen2", """, "use_sliding_window": true, "max_window_layers": 5""")]
    [InlineData("qwen3", """, "use_sliding_window": true, "sliding_window": 16, "max_window_layers": 2""")]
    [InlineData("smollm3", "")]
    [InlineData("smollm3", """, "no_rope_layer_interval": 3, "use_sliding_window": true, "sliding_window": 32""")]
    [InlineData("phi3", "")]
    [InlineData("gemma", "")]
    [InlineData("gemma2", "")]
    [InlineData("gemma3_text", "")]
    [InlineData("gemma3_text", """, "sliding_window_pattern": 3, "sliding_window": 64""")]
    public void DefaultsOfMinimalConfigsResolveAlike(string modelType, string extra)
    {
        using var files = new GgufTestFiles();
        string path = files.PathFor("config.json");
        string json = $$"""{"model_type": "{{modelType}}", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 8, "num_attention_heads": 8, "vocab_size": 512{{extra}}}""";
        File.WriteAllText(path, json);
        AssertAgree(json, path);
    }

    private static void AssertAgree(string json, string path)
    {
        var dro = DecoderConfig.Parse(json, path);
        var hf = HfDecoderConfig.Load(path);
        string what = $"{path} ({dro.ModelType})";
        Assert.True(dro.NumKeyValueHeads == hf.NumKeyValueHeads, $"{what}: num_key_value_heads {dro.NumKeyValueHeads} vs {hf.NumKeyValueHeads}");
        Assert.True(dro.HeadDim == hf.HeadDim, $"{what}: head_dim {dro.HeadDim} vs {hf.HeadDim}");
        Assert.True(dro.MaxPositionEmbeddings == hf.MaxPositionEmbeddings, $"{what}: max_position_embeddings {dro.MaxPositionEmbeddings} vs {hf.MaxPositionEmbeddings}");
        Assert.True(dro.RmsNormEps == hf.RmsNormEps, $"{what}: rms_norm_eps {dro.RmsNormEps} vs {hf.RmsNormEps}");
        Assert.True(dro.RopeTheta == hf.RopeTheta, $"{what}: rope_theta {dro.RopeTheta} vs {hf.RopeTheta}");
        Assert.True(dro.PartialRotaryFactor == hf.PartialRotaryFactor, $"{what}: partial_rotary_factor");
        for (int i = 0; i < dro.NumHiddenLayers; i++)
        {
            bool hfSliding = hf.LayerTypes?[i] == "sliding_attention" || (hf.LayerTypes is null && hf.ModelType is "mistral" or "phi3" && hf.SlidingWindow is not null);
            Assert.True((dro.LayerWindows[i] > 0) == hfSliding, $"{what}: layer {i} slides in {(dro.LayerWindows[i] > 0 ? "DroSharp" : "the exporter")} only");
            if (hfSliding) Assert.True(dro.LayerWindows[i] == hf.SlidingWindow, $"{what}: layer {i} window {dro.LayerWindows[i]} vs {hf.SlidingWindow}");
            if (dro.ModelType == "smollm3")
                Assert.True(dro.LayerUsesRope[i] == (hf.NoRopeLayers![i] != 0), $"{what}: layer {i} RoPE");
        }
        if (dro.ModelType is "gemma2" or "gemma3_text")
        {
            Assert.True(Math.Abs(dro.AttentionScale - 1 / Math.Sqrt(hf.QueryPreAttnScalar!.Value)) < 1e-7, $"{what}: query_pre_attn_scalar");
            Assert.True(dro.AttnLogitSoftcapping == (float)(hf.AttnLogitSoftcapping ?? 0), $"{what}: attn_logit_softcapping {dro.AttnLogitSoftcapping} vs {hf.AttnLogitSoftcapping}");
            Assert.True(dro.FinalLogitSoftcapping == (float)(hf.FinalLogitSoftcapping ?? 0), $"{what}: final_logit_softcapping {dro.FinalLogitSoftcapping} vs {hf.FinalLogitSoftcapping}");
            Assert.Equal(dro.RopeLocalBaseFreq ?? 10000.0, hf.RopeLocalBaseFreq ?? 10000.0);
        }
        if (JsonNode.Parse(json)!["tie_word_embeddings"] is not null)
            Assert.Equal(dro.TieWordEmbeddings, hf.TieWordEmbeddings);
    }
}
