using System.Text;
using DroSharp.Text.Normalizers;
using DroSharp.Text.Training;

namespace DroSharp.Text.Tests.Training;

public class TrainingTests
{
    /// <summary>A small corpus with repetition, punctuation, accents, CJK and emoji.</summary>
    internal static List<string> Corpus()
    {
        var lines = new List<string>();
        string[] seeds =
        [
            "The quick brown fox jumps over the lazy dog.",
            "The lazy dog sleeps; the quick fox runs away!",
            "Über café naïve résumé — déjà vu.",
            "東京は日本の首都です。 東京タワー",
            "emoji 🙂🦜 and 👩‍👩‍👧 family",
            "Numbers: 3.14159, 2,718 and 1234567.",
            "  leading and   multiple   spaces  ",
            "line one\nline two\r\nline three\ttabbed",
        ];
        for (int i = 0; i < 40; i++)
            foreach (var s in seeds) lines.Add(i % 3 == 0 ? s : s.Replace("fox", $"fox{i % 7}"));
        return lines;
    }

    [Fact]
    public void Byte_level_bpe_follows_t5_conventions_and_round_trips_text()
    {
        var tok = TokenizerTrainer.TrainByteLevelBpe(Corpus(), vocabSize: 400);
        Assert.Equal(400, tok.VocabSize);
        Assert.Equal(0, tok.PadId);
        Assert.Equal(1, tok.EosId);
        Assert.Equal(2, tok.UnkId);
        Assert.Null(tok.BosId);
        Assert.Equal(0, tok.TokenToId("<pad>"));
        Assert.Equal("</s>", tok.IdToToken(1));

        foreach (var text in Corpus().Distinct().Append("unseen: ʃ𝐀 ☃ zzz"))
        {
            var enc = tok.Encode(text);
            Assert.Equal(1, enc.Ids[^1]);
            Assert.True(enc.SpecialTokensMask[^1]);
            Assert.DoesNotContain(2, enc.Ids); // bytes cover everything
            Assert.Equal(UnicodeNormalization.Normalize(text, NormalizationForm.FormC), tok.Decode(enc.Ids, skipSpecialTokens: true));
        }
        // Frequent words become single tokens.
        Assert.Equal(2, tok.Encode("The lazy", addSpecialTokens: false).Count);
    }

    [Fact]
    public void Bpe_training_is_deterministic_and_reloads_from_its_json()
    {
        var a = TokenizerTrainer.TrainByteLevelBpe(Corpus(), 350);
        var b = TokenizerTrainer.TrainByteLevelBpe(Enumerable.Reverse(Corpus()).ToList(), 350);
        string json = a.ToJson();
        Assert.Equal(json, b.ToJson()); // order of the input lines does not matter
        var reloaded = Tokenizer.FromJson(json);
        Assert.Equal(json, reloaded.ToJson());
        foreach (var text in Corpus().Distinct())
            Assert.Equal(a.Encode(text).Ids, reloaded.Encode(text).Ids);
    }

    [Fact]
    public void Bpe_merges_the_most_frequent_pair_first_with_ties_to_the_smaller_ids()
    {
        // Pair counts: (a,b) 1 + 2 = 3, (c,d) 3, (b,a) 1. The tie at 3 goes to (a,b): "a" has the smaller id.
        // Then (c,d), then (ab,ab) from "abab".
        var counts = new Dictionary<string, long> { ["ab"] = 1, ["cd"] = 3, ["abab"] = 1 };
        var (vocab, merges) = BpeTrainer.Train(counts, ["<pad>"], [], vocabSize: 100, minFrequency: 1);
        Assert.Equal([("a", "b"), ("c", "d"), ("ab", "ab")], merges);
        Assert.Equal(new[] { "<pad>", "a", "b", "c", "d", "ab", "cd", "abab" }, vocab.OrderBy(kv => kv.Value).Select(kv => kv.Key));
    }

    [Fact]
    public void Bpe_stops_at_min_frequency_and_vocab_size()
    {
        var counts = new Dictionary<string, long> { ["xy"] = 5, ["zw"] = 1 };
        var (_, merges) = BpeTrainer.Train(counts, [], [], vocabSize: 100, minFrequency: 2);
        Assert.Equal([("x", "y")], merges);
        var (vocab, merges2) = BpeTrainer.Train(counts, [], [], vocabSize: 5, minFrequency: 1);
        Assert.Equal(5, vocab.Count);
        Assert.Single(merges2);
    }

    [Fact]
    public void Word_level_keeps_the_most_frequent_words_and_maps_the_rest_to_unk()
    {
        var texts = new[] { "b a b, c!", "a b a", "b d" }; // b ×4, a ×3, "," "!" "c" "d" ×1
        var tok = TokenizerTrainer.TrainWordLevel(texts, vocabSize: 6, minFrequency: 1);
        Assert.Equal(6, tok.VocabSize);
        Assert.Equal(3, tok.TokenToId("b"));
        Assert.Equal(4, tok.TokenToId("a"));
        Assert.Equal(5, tok.TokenToId("!")); // ties broken by code point: "!" < "," < "c" < "d"
        Assert.Equal(new[] { 3, 4, 2, 5, 1 }, tok.Encode("b a c !").Ids);
        Assert.Equal("b a!", tok.Decode(tok.Encode("b a !").Ids, skipSpecialTokens: true));

        var lower = TokenizerTrainer.TrainWordLevel(["Hello hello HELLO world"], 10, minFrequency: 1, lowercase: true);
        Assert.Equal(lower.Encode("hello").Ids, lower.Encode("HeLLo").Ids);
        Assert.Equal(new[] { 3, 1 }, lower.Encode("ＨＥＬＬＯ").Ids); // NFKC folds full-width letters first
    }

    [Fact]
    public void Word_level_training_is_deterministic_and_reloads()
    {
        var a = TokenizerTrainer.TrainWordLevel(Corpus(), 60);
        var b = TokenizerTrainer.TrainWordLevel(Enumerable.Reverse(Corpus()).ToList(), 60);
        Assert.Equal(a.ToJson(), b.ToJson());
        var reloaded = Tokenizer.FromJson(a.ToJson());
        foreach (var text in Corpus().Distinct().Append("never seen words"))
            Assert.Equal(a.Encode(text).Ids, reloaded.Encode(text).Ids);
        Assert.Equal(new[] { 2, 2, 2, 1 }, a.Encode("never seen words").Ids);
    }

    [Fact]
    public void Save_writes_a_file_that_loads_back()
    {
        var tok = TokenizerTrainer.TrainByteLevelBpe(Corpus(), 300);
        using (var temp = new TempDirectory("drosharp-text-"))
        {
            string dir = temp.Path;
            string path = Path.Combine(dir, "tokenizer.json");
            tok.Save(path);
            Assert.Equal(["tokenizer.json"], Directory.GetFiles(dir).Select(Path.GetFileName));
            var loaded = Tokenizer.FromFile(path);
            Assert.Equal(tok.ToJson(), loaded.ToJson());
        }
    }

    [Fact]
    public void Vocab_sizes_too_small_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenizerTrainer.TrainByteLevelBpe(Corpus(), 258));
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenizerTrainer.TrainWordLevel(Corpus(), 3));
    }

    [Fact]
    public void Training_texts_read_text_or_prompt_completion_and_name_bad_lines()
    {
        using (var temp = new TempDirectory("drosharp-text-"))
        {
            string dir = temp.Path;
            string good = Path.Combine(dir, "good.jsonl");
            File.WriteAllText(good, "{\"text\": \"one\"}\n\n{\"prompt\": \"two\", \"completion\": \"three\"}\n" +
                "{\"prompt\": [{\"role\": \"user\", \"content\": \"four\"}], \"completion\": [{\"role\": \"assistant\", \"content\": \"five\"}]}\n");
            Assert.Equal(["one", "two", "three", "four", "five"], TrainingTexts.ReadJsonl(good).ToList());

            void Bad(string content, string expected)
            {
                string path = Path.Combine(dir, "bad.jsonl");
                File.WriteAllText(path, "{\"text\": \"fine\"}\n" + content + "\n");
                var e = Assert.Throws<FormatException>(() => TrainingTexts.ReadJsonl(path).ToList());
                Assert.StartsWith($"{path}:2: ", e.Message);
                Assert.Contains(expected, e.Message);
            }
            Bad("{\"prompt\": \"no completion\"}", "\"prompt\" and \"completion\"");
            Bad("{\"text\": 5}", "field \"text\"");
            Bad("not json", "not valid JSON");
            Bad("[1, 2]", "expected a JSON object");
            Bad("{\"prompt\": [{\"role\": \"user\"}], \"completion\": \"x\"}", "\"prompt\"[0]");
        }
    }
}

public sealed class DecoderConventionsTests
{
    [Fact]
    public void DecoderConventionsPutBosInFrontAndAppendNothing()
    {
        var texts = new[] { "the cat sat", "the dog sat", "the cat ran" };
        var tok = DroSharp.Text.Training.TokenizerTrainer.TrainWordLevel(texts, 50, minFrequency: 1,
            conventions: DroSharp.Text.Training.TokenizerConventions.Decoder);
        Assert.Equal(3, tok.BosId);
        Assert.Equal(1, tok.EosId);
        var ids = tok.EncodeIds("the cat", addSpecialTokens: true);
        Assert.Equal(tok.BosId, ids[0]);
        Assert.DoesNotContain(tok.EosId!.Value, ids);
        Assert.Equal(ids[1..], tok.EncodeIds("the cat", addSpecialTokens: false));
        var reloaded = DroSharp.Text.Tokenizer.FromJson(tok.ToJson());
        Assert.Equal(ids, reloaded.EncodeIds("the cat"));
    }
}
