using DroSharp.Models.T5;
using static DroSharp.Models.Tests.Checkpoints.CheckpointTestFiles;

namespace DroSharp.Models.Tests.T5;

public sealed class T5PresetsTests
{
    [Fact]
    public void TinyIsExactlyTheGoldenConfig()
    {
        var golden = T5Config.Load(Path.Combine(TinyFixture, "config.json"));
        var tiny = T5Presets.Get("t5-tiny");
        Assert.Equal(golden.ToJson(), tiny.ToJson());
    }

    /// <summary>
    /// t5_peer.py CONFIGS (vocab, d_model, d_ff, d_kv, heads, layers; gated-gelu, untied), as written
    /// by its to_hf_json (dropout 0). The benchmark compares DroSharp and the peer on these.
    /// </summary>
    [Theory]
    [InlineData("t5-mini", 8192, 256, 1024, 64, 4, 4)]
    [InlineData("t5-small", 32128, 512, 1024, 64, 6, 8)]
    [InlineData("t5-tiny", 128, 32, 64, 8, 4, 2)]
    public void PeerPresetsMatchThePeer(string name, int vocab, int dModel, int dFf, int dKv, int heads, int layers)
    {
        var c = T5Presets.Get(name);
        Assert.Equal([vocab, dModel, dFf, dKv, heads, layers, layers, 32, 128],
            new[] { c.VocabSize, c.DModel, c.DFf, c.DKv, c.NumHeads, c.NumLayers, c.NumDecoderLayers, c.RelativeAttentionNumBuckets, c.RelativeAttentionMaxDistance });
        Assert.Equal("gated-gelu", c.FeedForwardProj);
        Assert.Equal("gelu_new", c.DenseActFn);
        Assert.True(c.IsGatedAct);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(1e-6, c.LayerNormEpsilon);
        Assert.Equal(0.0, c.DropoutRate);
        Assert.Equal(1.0, c.InitializerFactor);
        Assert.Equal((0, 0, 1), (c.DecoderStartTokenId, c.PadTokenId, c.EosTokenId));
    }

    [Fact]
    public void FlanT5SmallIsTheHubConfig()
    {
        var c = T5Presets.Get("flan-t5-small");
        Assert.Equal([32128, 512, 64, 1024, 6, 8, 8], new[] { c.VocabSize, c.DModel, c.DKv, c.DFf, c.NumHeads, c.NumLayers, c.NumDecoderLayers });
        Assert.Equal("gated-gelu", c.FeedForwardProj);
        Assert.Equal("gelu_new", c.DenseActFn);
        Assert.True(c.IsGatedAct);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(0.1, c.DropoutRate);
        Assert.Equal(0, c.DecoderStartTokenId);
    }

    [Fact]
    public void T5SmallV1IsTheOriginalReluTiedModel()
    {
        var c = T5Presets.Get("t5-small-v1");
        Assert.Equal([32128, 512, 64, 2048, 8, 6, 6], new[] { c.VocabSize, c.DModel, c.DKv, c.DFf, c.NumHeads, c.NumLayers, c.NumDecoderLayers });
        Assert.Equal("relu", c.DenseActFn);
        Assert.False(c.IsGatedAct);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(512, c.InnerDim);
    }

    [Fact]
    public void EveryPresetIsValidAndRoundTrips()
    {
        foreach (string name in T5Presets.Names)
        {
            var c = T5Presets.Get(name);
            c.Validate();
            Assert.Equal(c.ToJson(), T5Config.Parse(c.ToJson()).ToJson());
        }
    }

    [Fact]
    public void VocabOverrideAndFreshInstances()
    {
        var c = T5Presets.Get("t5-mini", vocabSize: 1000);
        Assert.Equal(1000, c.VocabSize);
        Assert.Equal(256, c.DModel);
        c.DModel = 7;
        Assert.Equal(256, T5Presets.Get("t5-mini").DModel);
        Assert.Equal(8192, T5Presets.Get("t5-mini").VocabSize);
        Assert.Throws<ArgumentException>(() => T5Presets.Get("t5-mini", vocabSize: 1)); // eos id 1 must fit
    }

    [Fact]
    public void UnknownPresetListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => T5Presets.Get("t5-huge"));
        Assert.Contains("t5-huge", e.Message);
        foreach (string n in T5Presets.Names) Assert.Contains(n, e.Message);
        Assert.False(T5Presets.TryGet("t5-huge", out _));
    }
}
