using DroSharp.Text.Training;

namespace DroSharp.Text.Tests.Training;

/// <summary>Tokenizers for chat models: extra special tokens in training, and training texts from conversational rows.</summary>
public class ChatTrainingTests
{
    private static readonly string[] Specials = ["<|im_start|>", "<|im_end|>"];

    [Theory]
    [InlineData("bpe")]
    [InlineData("wordlevel")]
    public void Extra_special_tokens_follow_unk_are_never_split_and_survive_a_reload(string kind)
    {
        var corpus = TrainingTests.Corpus();
        var tok = kind == "bpe"
            ? TokenizerTrainer.TrainByteLevelBpe(corpus, 400, extraSpecialTokens: Specials)
            : TokenizerTrainer.TrainWordLevel(corpus, 60, extraSpecialTokens: Specials);
        Assert.Equal(kind == "bpe" ? 400 : 60, tok.VocabSize);
        Assert.Equal((0, 1, 2, 3, 4), (tok.TokenToId("<pad>"), tok.TokenToId("</s>"), tok.TokenToId("<unk>"), tok.TokenToId("<|im_start|>"), tok.TokenToId("<|im_end|>")));
        string text = "<|im_start|>user\nThe lazy dog<|im_end|>\n<|im_start|>assistant\n";
        var ids = tok.EncodeIds(text, addSpecialTokens: false);
        Assert.Equal(3, ids[0]);
        Assert.Equal(2, ids.Count(id => id == 3));
        Assert.Single(ids, 4);
        Assert.DoesNotContain(ids, id => id == tok.UnkId && kind == "bpe");
        if (kind == "bpe") Assert.Equal(text, tok.Decode(ids)); // byte-level: exact round trip, specials included
        Assert.DoesNotContain("im_start", tok.Decode(ids, skipSpecialTokens: true));
        var reloaded = Tokenizer.FromJson(tok.ToJson());
        Assert.Equal(ids, reloaded.EncodeIds(text, addSpecialTokens: false));
        Assert.True(reloaded.AddedTokens.Single(t => t.Content == "<|im_end|>").Special);
    }

    [Fact]
    public void Extra_special_tokens_are_checked()
    {
        Assert.Throws<ArgumentException>(() => TokenizerTrainer.TrainByteLevelBpe(TrainingTests.Corpus(), 400, extraSpecialTokens: ["<x>", "<x>"]));
        Assert.Throws<ArgumentException>(() => TokenizerTrainer.TrainWordLevel(TrainingTests.Corpus(), 60, extraSpecialTokens: ["</s>"]));
        Assert.Throws<ArgumentException>(() => TokenizerTrainer.TrainWordLevel(TrainingTests.Corpus(), 60, extraSpecialTokens: [""]));
        // The specials count towards the vocabulary: 3 + 2 + 256 bytes.
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenizerTrainer.TrainByteLevelBpe(TrainingTests.Corpus(), 260, extraSpecialTokens: Specials));
        Assert.Equal(261, TokenizerTrainer.TrainByteLevelBpe(TrainingTests.Corpus(), 261, extraSpecialTokens: Specials).VocabSize);
    }

    [Fact]
    public void Training_texts_read_messages_and_preference_rows()
    {
        using (var temp = new TempDirectory("drosharp-text-"))
        {
            string path = temp.File("chat.jsonl");
            File.WriteAllText(path,
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": null, \"tool_calls\": []}, {\"role\": \"assistant\", \"content\": \"b\"}]}\n" +
                "{\"prompt\": [{\"role\": \"user\", \"content\": \"c\"}], \"chosen\": [{\"role\": \"assistant\", \"content\": \"d\"}], \"rejected\": \"e\"}\n" +
                "{\"chosen\": \"f\", \"rejected\": \"g\"}\n");
            Assert.Equal(["a", "b", "c", "d", "e", "f", "g"], TrainingTexts.ReadJsonl(path).ToList());
        }
    }
}
