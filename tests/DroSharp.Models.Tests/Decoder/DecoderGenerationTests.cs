using DroSharp.Models.Decoder;
using DroSharp.Models.Generation;
using DroSharp.Models.Tests.Gguf;
using DroSharp.Tensors;

namespace DroSharp.Models.Tests.Decoder;

/// <summary>
/// Cached decoding (prefill of right-padded prompts of different lengths, then one token per row at
/// its own position) gives the same tokens as recomputing the whole prefix every step, for every
/// family, greedy and sampled.
/// </summary>
public sealed class DecoderGenerationTests
{
    public static TheoryData<string> Presets() => new(DecoderPresets.Names.Where(n => n.EndsWith("-tiny", StringComparison.Ordinal)));

    /// <summary>Golden models whose windows and RoPE kinds decoding must honour too (short prompts: below any longrope switch).</summary>
    public static TheoryData<string> Goldens() => new(["gemma2", "gemma3_text", "mistral-swa", "qwen2-swa", "smollm3-nope-swa", "phi3-longrope-partial", "llama-llama3", "llama-yarn", "qwen3"]);

    private static readonly int[][] Prompts = [[1, 17, 29, 31], [1, 5], [1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49], [1, 300, 301]];

    private static DecoderForCausalLM Preset(string name, ulong seed)
    {
        var (family, config) = ModelFamilies.Preset(name);
        var model = (DecoderForCausalLM)family.CreatePolicy(config);
        model.InitializeWeights(new DeterministicRandom(seed));
        // Large weights give peaked distributions: greedy and sampled runs that differ somewhere.
        foreach (var p in model.Parameters.All.Where(p => p.Shape.Rank == 2))
        {
            var span = p.Span;
            for (int i = 0; i < span.Length; i++) span[i] *= 12f;
        }
        return model;
    }

    private static void AssertSame(List<int[]> a, List<int[]> b, string what)
    {
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++) Assert.True(a[i].SequenceEqual(b[i]), $"{what}, row {i}: cached [{string.Join(",", a[i])}] vs recomputed [{string.Join(",", b[i])}]");
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void CachedEqualsRecomputedForEveryFamily(string preset)
    {
        using var model = Preset(preset, 5);
        var gen = new Generator(model);
        var greedy = new GenerationOptions { MaxNewTokens = 12, Greedy = true };
        AssertSame(gen.Generate(Prompts, greedy, useCache: true), gen.Generate(Prompts, greedy, useCache: false), $"{preset} greedy");
        var sampled = new GenerationOptions { MaxNewTokens = 12, Greedy = false, Temperature = 1.1f, TopK = 40, TopP = 0.95f, Seed = 7 };
        var a = gen.Generate(Prompts, sampled, useCache: true);
        AssertSame(a, gen.Generate(Prompts, sampled, useCache: false), $"{preset} sampled");
        Assert.Contains(a, r => r.Length > 1);
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void CachedEqualsRecomputedOnGoldenModels(string name)
    {
        using var model = ModelFamilies.LoadPolicy(GgufTestFiles.Decoder(name));
        var gen = new Generator(model);
        var greedy = new GenerationOptions { MaxNewTokens = 14, Greedy = true };
        AssertSame(gen.Generate(Prompts, greedy, useCache: true), gen.Generate(Prompts, greedy, useCache: false), $"{name} greedy");
    }

    [Fact]
    public void ARowDecodesTheSameAloneAndInABatch()
    {
        using var model = Preset("qwen3-tiny", 9);
        var gen = new Generator(model);
        var greedy = new GenerationOptions { MaxNewTokens = 10, Greedy = true };
        var batch = gen.Generate(Prompts, greedy);
        for (int i = 0; i < Prompts.Length; i++)
            Assert.Equal(gen.Generate([Prompts[i]], greedy)[0], batch[i]);
    }

    [Fact]
    public void GenerationStopsAtAnyStopId()
    {
        using var model = Preset("llama-tiny", 3);
        var gen = new Generator(model);
        var free = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 12, Greedy = true });
        // Make the third token of row 0 a stop id: generation must end there, keeping it.
        int stop = free[0][2];
        var tokens = model.Tokens with { StopIds = [.. model.Tokens.StopIds, stop] };
        using var stopping = new DecoderForCausalLM(model.Config, tokens);
        stopping.Parameters.CopyFrom(model.Parameters);
        var cut = new Generator(stopping).Generate(Prompts, new GenerationOptions { MaxNewTokens = 12, Greedy = true });
        Assert.Equal(free[0].Take(free[0].ToList().IndexOf(stop) + 1), cut[0]);
    }
}
