using System.Text.Json;

namespace DroSharp.Text.Tests;

/// <summary>
/// Reference encodings: the golden expected.jsonl files (sentencepiece for T5, transformers.js-style
/// libraries for GPT-2 and Qwen3) and *.hf-extra.jsonl / variants.hf-expected.jsonl, produced by Hugging
/// Face <c>tokenizers</c> 0.23.2 itself (its Node binding; see Fixtures/README.md).
/// </summary>
public class GoldenTokenizerTests
{
    public static TheoryData<string, int> GoldenLines()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "t5-unigram", "gpt2-bpe", "qwen3-bpe" })
        {
            int n = Fixtures.Lines($"{name}.expected.jsonl").Count;
            for (int i = 0; i < n; i++) data.Add(name, i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenLines))]
    public void Golden_ids_and_decoding_match(string name, int line)
    {
        var tok = Fixtures.Load(name);
        var e = Fixtures.Lines($"{name}.expected.jsonl")[line];
        string text = e.GetProperty("text").GetString()!;
        int[] expected = Fixtures.Ints(e, "ids");
        // T5's reference is encode(text) + [</s>]; the BPE references add no special tokens.
        var enc = tok.Encode(text, addSpecialTokens: name == "t5-unigram");
        Assert.Equal(expected, enc.Ids);

        if (e.TryGetProperty("pieces", out var pieces))
        {
            var expectedPieces = pieces.EnumerateArray().Select(p => p.GetString()).ToArray();
            for (int i = 0; i < expectedPieces.Length; i++)
                if (expected[i] != tok.UnkId) Assert.Equal(expectedPieces[i], enc.Tokens[i]);
        }

        // sentencepiece spells <unk> as " ⁇ " when decoding; HF (and we) drop it as a special token.
        // The BPE references decode without skipping special tokens.
        string decoded = e.GetProperty("decoded").GetString()!;
        if (!expected.Contains(tok.UnkId ?? -1))
            Assert.Equal(decoded, tok.Decode(enc.Ids, skipSpecialTokens: name == "t5-unigram"));
    }

    public static TheoryData<string, int> HfExtraLines()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "t5-unigram", "gpt2-bpe", "qwen3-bpe" })
        {
            int n = Fixtures.Lines($"{name}.hf-extra.jsonl").Count;
            for (int i = 0; i < n; i++) data.Add(name, i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(HfExtraLines))]
    public void Hand_picked_strings_match_hf_tokenizers(string name, int line)
    {
        var tok = Fixtures.Load(name);
        var e = Fixtures.Lines($"{name}.hf-extra.jsonl")[line];
        CheckAgainstHf(tok, e);
    }

    public static TheoryData<string, int> VariantLines()
    {
        var data = new TheoryData<string, int>();
        int i = 0;
        foreach (var e in Fixtures.Lines("variants.hf-expected.jsonl")) data.Add(e.GetProperty("variant").GetString()!, i++);
        return data;
    }

    [Theory]
    [MemberData(nameof(VariantLines))]
    public void Pipeline_variants_match_hf_tokenizers(string variant, int line)
    {
        var tok = Fixtures.Variant(variant);
        var e = Fixtures.Lines("variants.hf-expected.jsonl")[line];
        CheckAgainstHf(tok, e);
    }

    private static void CheckAgainstHf(Tokenizer tok, JsonElement e)
    {
        string text = e.GetProperty("text").GetString()!;
        int[] ids = Fixtures.Ints(e, "ids");
        Assert.Equal(ids, tok.Encode(text).Ids);
        Assert.Equal(Fixtures.Ints(e, "ids_no_special"), tok.Encode(text, addSpecialTokens: false).Ids);
        Assert.Equal(e.GetProperty("decoded").GetString(), tok.Decode(ids));
        Assert.Equal(e.GetProperty("decoded_skip_special").GetString(), tok.Decode(ids, skipSpecialTokens: true));
    }
}
