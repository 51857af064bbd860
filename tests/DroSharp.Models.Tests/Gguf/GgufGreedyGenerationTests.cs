using DroSharp.Models.Decoder;
using DroSharp.Models.Generation;
using DroSharp.Models.Gguf;
using DroSharp.Text;
using LLama.Native;
using Xunit.Abstractions;

namespace DroSharp.Models.Tests.Gguf;

/// <summary>
/// Greedy decoding of the exported file by llama.cpp (LLamaSharp, token by token with its KV cache) gives the
/// tokens DroSharp's <see cref="Generator"/> gives with greedy options (what <c>dro generate --temperature 0</c>
/// runs: all prompts in one batch, DroSharp's KV cache), for tiny presets with a byte-level tokenizer.
/// The prompts are text, tokenized by DroSharp.Text as <c>dro generate</c> does; llama.cpp's own tokenization of
/// the text must give the same ids. Stopping is made fair: DroSharp stops after any of its stop ids (kept in
/// the output), llama.cpp after any end-of-generation token of the file's vocabulary (kept); the test checks
/// that the two sets agree on the ids that matter, then compares the outputs whole.
/// </summary>
[Collection("llama.cpp")]
public sealed class GgufGreedyGenerationTests(ITestOutputHelper output)
{
    private const int MaxNewTokens = 24;

    private static readonly string[] Prompts =
    [
        "Once upon a time",
        "the cat sat on the mat and",
        "Hello world! It's a test",
        "zebra quiz 42",
        "what colour is the sky",
        "a",
    ];

    /// <param name="preset">The tiny preset, weights by <see cref="TinyDecoders.Randomize"/>.</param>
    /// <param name="stopEarly">
    /// Make the EOS likely, so that some rows stop before the others: the EOS row of the output matrix becomes
    /// 1.05 × the row of the token DroSharp generates third for the first prompt, which the EOS then replaces there.
    /// </param>
    [Theory]
    [InlineData("llama-tiny", false)]
    [InlineData("llama-tiny", true)]
    [InlineData("qwen2-tiny", false)]
    [InlineData("qwen3-tiny", false)]
    [InlineData("qwen3-tiny", true)]
    [InlineData("smollm3-tiny", false)]
    public void LlamaCppGreedyEqualsDroSharpGreedy(string preset, bool stopEarly)
    {
        using var files = new GgufTestFiles();
        string dir = TinyDecoders.Write(files, preset, seed: 21);
        var tokenizer = Tokenizer.FromFile(Path.Combine(dir, "tokenizer.json"));
        var prompts = Prompts.Select(p => tokenizer.EncodeIds(p, addSpecialTokens: true)).ToList();
        var greedy = new GenerationOptions { Greedy = true, MaxNewTokens = MaxNewTokens };
        if (stopEarly)
        {
            using var edited = (DecoderForCausalLM)ModelFamilies.LoadPolicy(dir);
            int third = new Generator(edited).Generate([prompts[0]], greedy)[0][2];
            var head = (edited.LmHead ?? edited.Model.EmbedTokens).Span;
            int d = edited.Config.HiddenSize, eos = edited.Tokens.EosId;
            for (int j = 0; j < d; j++) head[eos * d + j] = 1.05f * head[third * d + j];
            edited.Save(dir);
        }
        string path = files.PathFor("model.gguf");
        GgufExporter.Export(dir, path, GgufFileType.F32);
        using var model = (DecoderForCausalLM)ModelFamilies.LoadPolicy(dir);
        using var llama = LlamaCppModel.Load(path);

        // The same ids on both sides, and the same end-of-generation ids.
        foreach (var (text, ids) in Prompts.Zip(prompts))
            Assert.Equal(ids, llama.Tokenize(text));
        foreach (int stop in model.Tokens.StopIds)
            Assert.True(((LLamaToken)stop).IsEndOfGeneration(llama.Weights.Vocab), $"stop id {stop} is not an end-of-generation token for llama.cpp");

        var ours = new Generator(model).Generate(prompts, greedy);
        int stopped = 0;
        double minMargin = double.PositiveInfinity;
        for (int i = 0; i < prompts.Count; i++)
        {
            var theirs = llama.GenerateGreedy(prompts[i], MaxNewTokens);
            var margins = TopTwoMargins(model, prompts[i], ours[i]);
            minMargin = Math.Min(minMargin, margins.Min());
            output.WriteLine($"{preset} \"{Prompts[i]}\" → [{string.Join(", ", ours[i])}] {System.Text.Json.JsonSerializer.Serialize(tokenizer.Decode(ours[i], skipSpecialTokens: true))}");
            Assert.True(ours[i].SequenceEqual(theirs),
                $"{preset} prompt {i}: DroSharp [{string.Join(", ", ours[i])}] vs llama.cpp [{string.Join(", ", theirs)}]; DroSharp's top-two logit margins [{string.Join(", ", margins.Select(m => m.ToString("G3")))}]");
            if (model.Tokens.IsStop(ours[i][^1])) stopped++;
        }
        output.WriteLine($"{preset}: {prompts.Count} prompts, {ours.Sum(o => o.Length)} tokens, {stopped} stopped at a stop id; smallest top-two logit margin {minMargin:G3}");
        // Equality means something only if no step was a near tie (the two implementations differ by ~1e-5 in logits).
        Assert.True(minMargin > 1e-3, $"{preset}: a greedy step had a top-two margin of {minMargin}; choose other prompts or weights");
        Assert.True(ours.Sum(o => o.Length) >= prompts.Count * 16, "too few tokens were compared");
        if (stopEarly) Assert.True(stopped > 0 && ours[0].Length <= 3, $"{preset}: no row stopped early");
    }

    /// <summary>DroSharp's (largest − second largest logit) at each generated position, recomputed without a cache.</summary>
    private static double[] TopTwoMargins(DecoderForCausalLM model, int[] prompt, int[] generated)
    {
        var logits = TinyDecoders.Logits(model, [.. prompt, .. generated]);
        return Enumerable.Range(0, generated.Length).Select(k =>
        {
            var row = logits[prompt.Length - 1 + k];
            float first = float.NegativeInfinity, second = float.NegativeInfinity;
            foreach (float l in row)
                if (l > first) (first, second) = (l, first);
                else if (l > second) second = l;
            return (double)(first - second);
        }).ToArray();
    }
}
