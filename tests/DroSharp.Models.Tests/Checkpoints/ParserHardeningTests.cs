using DroSharp.Models.Checkpoints;
using DroSharp.Models.Decoder;
using DroSharp.Models.T5;

namespace DroSharp.Models.Tests.Checkpoints;

/// <summary>Issue 15: config and index files that used to crash (found by hand or by fuzz/run.sh) are now format errors naming the key.</summary>
public sealed class ParserHardeningTests
{
    [Fact]
    public void AnUnknownT5ActivationIsAFormatErrorWhenTheModelIsBuilt()
    {
        // It used to fail with NotSupportedException (exit 2 in the CLI). The config still parses as transformers reads it.
        foreach (var json in new[] { """{"model_type": "t5", "d_model": 8, "d_kv": 4, "num_heads": 2, "d_ff": 8, "vocab_size": 16, "dense_act_fn": "swish"}""",
                                     """{"model_type": "t5", "d_model": 8, "d_kv": 4, "num_heads": 2, "d_ff": 8, "vocab_size": 16, "feed_forward_proj": "gated-silu"}""" })
        {
            var (family, config) = ModelFamilies.ParseConfig(json, "config.json");
            var e = Assert.Throws<CheckpointFormatException>(() => family.CreatePolicy(config));
            Assert.Equal("dense_act_fn", e.Key);
            Assert.Contains(((T5Config)config).DenseActFn, e.Message);
        }
        foreach (var act in T5Config.SupportedActivations)
        {
            var (family, config) = ModelFamilies.ParseConfig($$"""{"model_type": "t5", "d_model": 8, "d_kv": 4, "num_heads": 2, "d_ff": 8, "vocab_size": 16, "dense_act_fn": "{{act}}"}""", "c");
            using var model = family.CreatePolicy(config);
        }
    }

    [Fact]
    public void ADuplicateKeyInADecoderConfigIsAFormatError()
    {
        // Found by the fuzzer: System.Text.Json's JsonObject threw ArgumentException on first access.
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFamilies.ParseConfig(
            """{"model_type": "llama", "hidden_size": 64, "head_dim": null, "head_dim": null}""", "config.json"));
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void AShardIndexThatIsNotUtf8IsAFormatError()
    {
        using (var temp = new TempDirectory("drosharp-index-"))
        {
            string dir = temp.Path;
            string path = Path.Combine(dir, ShardedCheckpointIndex.FileName);
            File.WriteAllBytes(path, [.. "{\"weight_map\": {\"a\": \""u8, 0xEF, 0x80, .. "\"}}"u8]);
            var e = Assert.Throws<CheckpointFormatException>(() => ShardedCheckpointIndex.Load(path));
            Assert.Contains("UTF-8", e.Message);
        }
    }

    [Theory]
    [InlineData("t5-tiny")]
    [InlineData("t5-small-v1")]
    [InlineData("llama-tiny")]
    [InlineData("gemma2-tiny")]
    public void ParameterCountIsTheNumberOfWeightsTheModelHas(string preset)
    {
        if (ModelFamilies.ForPreset(preset) is null) return; // a preset another family renamed
        var (family, config) = ModelFamilies.Preset(preset);
        long counted = config switch { T5Config t => t.ParameterCount(), DecoderConfig d => d.ParameterCount(), _ => -1 };
        using var model = family.CreatePolicy(config);
        Assert.Equal(model.Parameters.ElementCount, counted);
    }
}
