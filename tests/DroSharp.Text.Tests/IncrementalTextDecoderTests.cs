using DroSharp.Text.Tests.Training;
using DroSharp.Text.Training;

namespace DroSharp.Text.Tests;

/// <summary>Streamed detokenisation: what is released is final, multi-byte characters come out whole, and everything adds up to the decoding.</summary>
public class IncrementalTextDecoderTests
{
    private static List<string> Stream(Tokenizer tokenizer, int[] ids, bool skipSpecialTokens = true)
    {
        var d = new IncrementalTextDecoder(tokenizer, skipSpecialTokens);
        var pieces = ids.Select(d.Add).ToList();
        pieces.Add(d.Flush());
        return pieces;
    }

    [Theory]
    [InlineData("emoji 🦜 and 👩‍👩‍👧 family, ünïcode, 東京タワー and\nnew lines\n")]
    [InlineData("  leading spaces, 3.14159 and a trailing hieroglyph 𓀀")]
    [InlineData("<|im_start|>assistant\nHello 🦜<|im_end|>\n")]
    public void Byte_level_tokens_stream_to_the_whole_decoding(string text)
    {
        var qwen = Fixtures.Load("qwen3-bpe");
        int[] ids = qwen.EncodeIds(text, addSpecialTokens: false);
        Assert.Contains(ids, id => qwen.Decode([id]).Contains('\uFFFD')); // some tokens end inside a character
        foreach (bool skip in new[] { true, false })
        {
            var pieces = Stream(qwen, ids, skip);
            Assert.Equal(qwen.Decode(ids, skip), string.Concat(pieces));
            Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        }
        Assert.Equal(text, string.Concat(Stream(qwen, ids, skipSpecialTokens: false)));
    }

    [Fact]
    public void Text_is_released_word_by_word_and_line_by_line()
    {
        var gpt2 = Fixtures.Load("gpt2-bpe");
        int[] ids = gpt2.EncodeIds("Hello world\nsecond line", addSpecialTokens: false);
        var pieces = Stream(gpt2, ids);
        Assert.Equal("Hello world\nsecond line", string.Concat(pieces));
        Assert.Contains("Hello ", pieces);         // a word is released once the next one starts
        Assert.Contains("world\n", pieces);        // a line break releases everything before it
        Assert.Equal("line", pieces[^1]);          // the last word waits for the end
        Assert.Equal("", pieces[0]);
    }

    [Fact]
    public void Word_piece_cleanup_never_prints_text_twice()
    {
        var tok = TokenizerTrainer.TrainWordLevel(TrainingTests.Corpus(), 80);
        int[] ids = tok.EncodeIds("The lazy dog sleeps; the quick fox runs away!", addSpecialTokens: false);
        var pieces = Stream(tok, ids);
        Assert.Equal(tok.Decode(ids, skipSpecialTokens: true), string.Concat(pieces));
    }
}
