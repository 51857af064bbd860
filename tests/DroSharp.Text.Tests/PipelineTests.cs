using DroSharp.Text.Normalizers;
using DroSharp.Text.PreTokenizers;

namespace DroSharp.Text.Tests;

public class PipelineTests
{
    [Fact]
    public void Precompiled_rewrites_whole_grapheme_clusters_by_their_shortest_prefix_rule()
    {
        var t5 = Fixtures.Load("t5-unigram");
        var n = Assert.IsType<PrecompiledNormalizer>(t5.Normalizer);
        Assert.Equal("Fullwidth 123", n.Normalize("Ｆｕｌｌｗｉｄｔｈ　１２３"));
        Assert.Equal("fi 1⁄2 TM", n.Normalize("ﬁ ½ ™"));
        // HF semantics: "¹" has a rule, so the whole cluster "¹\uFE0F" becomes "1" (sentencepiece keeps the FE0F).
        Assert.Equal("1", n.Normalize("¹\uFE0F"));
        Assert.Equal("plain text", n.Normalize("plain text"));
        Assert.Equal("tab new line", n.Normalize("tab\tnew\nline").Replace("  ", " "));
    }

    [Fact]
    public void Unigram_picks_the_best_scoring_segmentation_and_fuses_unknowns()
    {
        var t5 = Fixtures.Load("t5-unigram");
        var enc = t5.Encode("zzzzqqqq xylophone 🦜🦜", addSpecialTokens: false);
        Assert.Equal(["▁", "z", "z", "z", "z", "q", "q", "q", "q", "▁", "x", "y", "l", "o", "p", "h", "on", "e", "▁", "🦜🦜"], enc.Tokens);
        Assert.Equal(t5.UnkId, enc.Ids[^1]); // two unknown code points, one fused <unk>
        Assert.Equal(2, t5.UnkId);
        Assert.Equal(0, t5.PadId);
        Assert.Equal(1, t5.EosId);
        Assert.Null(t5.BosId);
    }

    [Fact]
    public void Special_tokens_in_the_text_are_matched_before_normalization()
    {
        var t5 = Fixtures.Load("t5-unigram");
        var ids = t5.Encode("a</s>a").Ids;
        Assert.Equal([11, 1, 11, 1], ids);
        var qwen = Fixtures.Load("qwen3-bpe");
        Assert.Equal([151644, 872, 198, 6023, 151645], qwen.Encode("<|im_start|>user\nhi<|im_end|>").Ids);
        Assert.Equal("user\nhi", qwen.Decode([151644, 872, 198, 6023, 151645], skipSpecialTokens: true));
    }

    [Theory]
    [InlineData("gpt2-bpe")]
    [InlineData("qwen3-bpe")]
    public void Byte_level_bpe_decodes_any_text_back_exactly(string name)
    {
        var tok = Fixtures.Load(name);
        foreach (var text in new[] { "  a\t\tb\r\n\r\n", "👩‍👩‍👧🇫🇷👍🏽", "𝐀𝐁𝐂 𠀀", "\u0000\u0001 control", "mixed 東京 Москва" })
            Assert.Equal(text, tok.Decode(tok.Encode(text).Ids));
        // A split multi-byte character decodes to U+FFFD, as HF's lossy UTF-8 does.
        var emoji = tok.Encode("🦜").Ids;
        Assert.True(emoji.Length > 1);
        Assert.Contains('\uFFFD', tok.Decode(emoji[..1]));
    }

    [Fact]
    public void Golden_tokenizers_survive_a_json_round_trip()
    {
        foreach (var name in new[] { "t5-unigram", "gpt2-bpe", "qwen3-bpe" })
        {
            var tok = Fixtures.Load(name);
            string json = tok.ToJson();
            var again = Tokenizer.FromJson(json);
            Assert.Equal(json, again.ToJson());
            foreach (var e in Fixtures.Lines($"{name}.hf-extra.jsonl"))
            {
                string text = e.GetProperty("text").GetString()!;
                Assert.Equal(tok.Encode(text).Ids, again.Encode(text).Ids);
            }
        }
    }

    [Fact]
    public void Possessive_quantifiers_become_atomic_groups()
    {
        Assert.Equal(@"(?>[^\r\n\p{L}\p{N}]?)\p{L}+", TextPattern.TranslatePossessive(@"[^\r\n\p{L}\p{N}]?+\p{L}+"));
        Assert.Equal(@" ?(?>[^\s\p{L}\p{N}]+)[\r\n]*", TextPattern.TranslatePossessive(@" ?[^\s\p{L}\p{N}]++[\r\n]*"));
        Assert.Equal(@"(?i:'s)|(?>(?:ab)*)c|(?>x{1,3})", TextPattern.TranslatePossessive(@"(?i:'s)|(?:ab)*+c|x{1,3}+"));
        Assert.Equal(@"a+b?", TextPattern.TranslatePossessive(@"a+b?"));
    }

    [Fact]
    public void Regex_classes_see_code_points_not_surrogate_halves()
    {
        var letters = TextPattern.FromRegex(@"\p{L}+");
        var matches = new List<(int, int)>();
        letters.FindMatches("a𝐀b 🙂 𠀀", matches);
        Assert.Equal([(0, 4), (8, 10)], matches); // 𝐀 (Lu) and 𠀀 (Lo) are letters; 🙂 is not
        matches.Clear();
        TextPattern.FromRegex(@"[^\r\n\p{L}\p{N}]?\p{L}+").FindMatches("🙂abc", matches);
        Assert.Equal([(0, 5)], matches); // the emoji is one optional prefix character, never half of one
    }

    [Fact]
    public void Split_behaviors_follow_hf()
    {
        static string[] Split(SplitBehavior b, bool invert = false)
        {
            var output = new List<PreToken>();
            new SplitPreTokenizer(TextPattern.Literal("-"), b, invert).PreTokenize(new PreToken("the-final--countdown", true), output);
            return output.Select(p => p.Text).ToArray();
        }
        Assert.Equal(["the", "final", "countdown"], Split(SplitBehavior.Removed));
        Assert.Equal(["the", "-", "final", "-", "-", "countdown"], Split(SplitBehavior.Isolated));
        Assert.Equal(["the-", "final-", "-", "countdown"], Split(SplitBehavior.MergedWithPrevious));
        Assert.Equal(["the", "-final", "-", "-countdown"], Split(SplitBehavior.MergedWithNext));
        Assert.Equal(["the", "-", "final", "--", "countdown"], Split(SplitBehavior.Contiguous));
        Assert.Equal(["-", "-", "-"], Split(SplitBehavior.Removed, invert: true));
    }

    [Fact]
    public void Byte_level_alphabet_is_gpt2s()
    {
        Assert.Equal('Ġ', ByteLevelAlphabet.ByteToChar[' ']);
        Assert.Equal('Ċ', ByteLevelAlphabet.ByteToChar['\n']);
        Assert.Equal('!', ByteLevelAlphabet.ByteToChar['!']);
        Assert.Equal(256, ByteLevelAlphabet.ByteToChar.Distinct().Count());
        for (int b = 0; b < 256; b++) Assert.Equal(b, ByteLevelAlphabet.CharToByte(ByteLevelAlphabet.ByteToChar[b]));
        Assert.Equal("ĠcafÃ©", ByteLevelAlphabet.Encode(" café"));
    }

    [Theory]
    [InlineData("{\"model\": {\"type\": \"Nope\"}}", "model: model type \"Nope\"")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}", "\"b\" is not in the vocabulary")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"ab\"]}}", "model.merges[0]")]
    [InlineData("{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": -1}}}", "model.vocab[\"a\"]")]
    [InlineData("{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]], \"unk_id\": 5}}", "unk_id 5")]
    [InlineData("{\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"@@@\"}, \"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}", "normalizer.precompiled_charsmap")]
    [InlineData("{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Whitespace\"}, {\"type\": \"Odd\"}]}, \"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}", "pre_tokenizer.pretokenizers[1]")]
    [InlineData("{\"added_tokens\": [{\"content\": \"x\"}], \"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}", "added_tokens[0].id")]
    public void Malformed_tokenizer_json_names_the_field(string json, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => Tokenizer.FromJson(json));
        Assert.True(e is FormatException or NotSupportedException, e.GetType().Name);
        Assert.Contains(expected, e.Message);
    }
}
