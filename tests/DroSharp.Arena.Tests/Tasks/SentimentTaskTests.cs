using DroSharp.Arena.Tasks;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tests.Tasks;

public class SentimentTaskTests
{
    private readonly SentimentTask _task = new();
    private const string Prompt = "i thought the acting was";

    private double V(string word) => _task.Lexicon.TryGet(word, out var w) ? w.Value : throw new KeyNotFoundException(word);
    private double Bias => _task.Lexicon.SubjectBias("acting");

    [Fact]
    public void Lexicon_HasSignsThatFollowTheWordLists()
    {
        Assert.InRange(V("brilliant"), 0.4, 1.0);
        Assert.InRange(V("superb"), 0.4, 1.0);
        Assert.InRange(V("dull"), -1.0, -0.4);
        Assert.InRange(V("long"), -0.05, 0.05);
        Assert.InRange(V("laughs"), 0.4, 1.0);
        Assert.InRange(V("flaws"), -1.0, -0.4);
        Assert.InRange(V("very"), 1.2, 1.6);
        Assert.InRange(V("slightly"), 0.4, 0.8);
        Assert.InRange(Bias, -0.75, 0.75);
        Assert.InRange(_task.Vocabulary.Count, 200, 400);
    }

    [Fact]
    public void Lexicon_IsGeneratedFromItsSeed()
    {
        var same = new SentimentTask();
        var other = new SentimentTask(new SentimentTaskOptions { LexiconSeed = 99 });
        Assert.Equal(V("brilliant"), same.Lexicon.TryGet("brilliant", out var w) ? w.Value : double.NaN);
        Assert.NotEqual(V("brilliant"), other.Lexicon.TryGet("brilliant", out var o) ? o.Value : double.NaN);
        Assert.Equal(_task.Vocabulary, other.Vocabulary); // same words, different hidden numbers
    }

    [Fact]
    public void Reward_PositiveBeatsNeutralBeatsNegative()
    {
        double positive = _task.Reward(Prompt, "brilliant and superb .");
        double neutral = _task.Reward(Prompt, "long .");
        double negative = _task.Reward(Prompt, "dull and awful .");
        Assert.Equal(Bias + V("brilliant") + V("superb"), positive, 12);
        Assert.Equal(Bias + V("long"), neutral, 12);
        Assert.Equal(Bias + V("dull") + V("awful"), negative, 12);
        Assert.True(positive > neutral && neutral > negative);
    }

    [Fact]
    public void Reward_AdverbScalesTheNextAdjectiveAndNounPhraseCounts()
    {
        double r = _task.Reward(Prompt, "very brilliant but slightly dull with great laughs .");
        double expected = Bias + V("very") * V("brilliant") + V("slightly") * V("dull") + V("great") + V("laughs");
        Assert.Equal(expected, r, 12);
        var score = _task.Score(Prompt, "very brilliant but slightly dull with great laughs .");
        Assert.True(score.Grammatical);
        Assert.Equal(0, score.GrammarPenalty);
        Assert.Equal(0, score.LengthPenalty);
        Assert.Equal(9, score.Words);
    }

    [Fact]
    public void Reward_RepeatedWordsCountOnce()
        => Assert.Equal(Bias + V("brilliant"), _task.Reward(Prompt, "brilliant and brilliant ."), 12);

    [Theory]
    [InlineData("brilliant", 1)]                  // no period: all words before the break still count
    [InlineData("brilliant superb .", 1)]         // two adjectives without a conjunction: only the first counts
    [InlineData(". brilliant", 0)]                // period first
    [InlineData("brilliant . superb .", 2)]       // words after the period
    [InlineData("brilliant and acting .", 2)]     // a prompt word is not a completion word
    [InlineData("brilliant and zzyzx .", 2)]      // unknown word
    [InlineData("with laughs .", 0)]              // a noun phrase needs an adjective phrase first
    [InlineData("very .", 1)]                     // adverb without adjective
    [InlineData("", 0)]
    public void Reward_PenalisesBrokenGrammar(string completion, int wordsBeforeBreak)
    {
        var score = _task.Score(Prompt, completion);
        Assert.False(score.Grammatical);
        Assert.Equal(_task.Options.GrammarPenalty, score.GrammarPenalty);
        var words = SentimentTask.Words(completion);
        double valence = 0;
        for (int i = 0; i < wordsBeforeBreak; i++)
            if (_task.Lexicon.TryGet(words[i], out var w) && w.Tag is WordTag.Adjective or WordTag.Noun) valence += w.Value;
        Assert.Equal(valence, score.Valence, 12);
        Assert.Equal(Bias + valence - _task.Options.GrammarPenalty, _task.Reward(Prompt, completion), 12);
    }

    [Fact]
    public void Reward_PenalisesLengthBeyondTheTarget()
    {
        // 12 words, grammatical: 2 beyond the target of 10.
        string completion = "good and great and fresh and sweet and warm and vivid .";
        var score = _task.Score(Prompt, completion);
        Assert.True(score.Grammatical);
        Assert.Equal(12, score.Words);
        Assert.Equal(2 * _task.Options.LengthPenalty, score.LengthPenalty);
        double valence = new[] { "good", "great", "fresh", "sweet", "warm", "vivid" }.Sum(V);
        Assert.Equal(Bias + valence - 2 * _task.Options.LengthPenalty, _task.Reward(Prompt, completion), 12);
    }

    [Fact]
    public void Words_SplitsPunctuationAndLowerCases()
    {
        Assert.Equal(["brilliant", "and", "superb", "."], SentimentTask.Words("Brilliant and SUPERB."));
        Assert.Equal(_task.Reward(Prompt, "brilliant and superb ."), _task.Reward(Prompt, "Brilliant and superb."), 12);
        Assert.Equal(["a", ",", "b", "!", "?"], SentimentTask.Words("a, b!?"));
    }

    [Fact]
    public void Grammar_AcceptsThePatternAndOnlyIt()
    {
        WordTag?[] Tags(params WordTag[] t) => t.Select(x => (WordTag?)x).ToArray();
        const WordTag ADV = WordTag.Adverb, ADJ = WordTag.Adjective, CONJ = WordTag.Conjunction, WITH = WordTag.With, N = WordTag.Noun, END = WordTag.End;
        Assert.True(SentimentGrammar.IsGrammatical(Tags(ADJ, END)));
        Assert.True(SentimentGrammar.IsGrammatical(Tags(ADV, ADJ, CONJ, ADJ, CONJ, ADV, ADJ, END)));
        Assert.True(SentimentGrammar.IsGrammatical(Tags(ADJ, WITH, N, END)));
        Assert.True(SentimentGrammar.IsGrammatical(Tags(ADJ, WITH, ADJ, N, END)));
        Assert.False(SentimentGrammar.IsGrammatical(Tags(ADJ)));
        Assert.False(SentimentGrammar.IsGrammatical(Tags(ADJ, CONJ, END)));
        Assert.False(SentimentGrammar.IsGrammatical(Tags(ADJ, WITH, ADV, ADJ, N, END)));
        Assert.False(SentimentGrammar.IsGrammatical(Tags(ADJ, WITH, N, CONJ, ADJ, END)));
        Assert.False(SentimentGrammar.IsGrammatical(new WordTag?[] { WordTag.Adjective, null, WordTag.End }));
        Assert.Equal(3, SentimentGrammar.ViablePrefixLength(Tags(ADJ, CONJ, ADJ, ADJ, END), out bool accepted));
        Assert.False(accepted);
    }

    [Fact]
    public void BestReward_IsAnUpperBoundReachedByAConstruction()
    {
        // Best words by hand: the strongest adverb on the strongest adjectives.
        string adverb = _task.Lexicon.Adverbs.MaxBy(w => w.Value).Word;
        var adjectives = _task.Lexicon.Adjectives.OrderByDescending(w => w.Value).Select(w => w.Word).ToArray();
        string noun = _task.Lexicon.Nouns.MaxBy(w => w.Value).Word;
        string built = $"{adverb} {adjectives[0]} and {adverb} {adjectives[1]} with {adjectives[2]} {noun} ."; // 9 words
        double best = _task.BestReward(Prompt);
        Assert.True(_task.Reward(Prompt, built) <= best + 1e-12);
        Assert.True(_task.Reward(Prompt, built) > best - 1.5, $"built {_task.Reward(Prompt, built)} vs best {best}");

        var rng = new DeterministicRandom(5);
        for (int i = 0; i < 2000; i++)
        {
            string c = i % 2 == 0 ? _task.RandomCompletion(Prompt, rng) : _task.DemonstrationFor(Prompt, rng);
            Assert.True(_task.Reward(Prompt, c) <= best + 1e-12, $"'{c}' beats the best reward {best}");
        }
    }

    [Theory]
    [InlineData("the movie was", "", "the", "movie", "was")]
    [InlineData("i thought this plot seemed", "i thought", "this", "plot", "seemed")]
    [InlineData("to be honest the ending is", "to be honest", "the", "ending", "is")]
    public void ParsePrompt_FindsTheSlots(string prompt, string opener, string det, string subject, string link)
        => Assert.Equal((opener, det, subject, link), SentimentTask.ParsePrompt(prompt));

    [Theory]
    [InlineData("the movie")]
    [InlineData("the popcorn was")]
    [InlineData("a movie was")]
    [InlineData("quite frankly the movie was")]
    [InlineData("the movie smelled")]
    public void ParsePrompt_RejectsOtherText(string prompt)
    {
        var e = Assert.Throws<FormatException>(() => _task.Reward(prompt, "good ."));
        Assert.Contains(prompt, e.Message);
    }

    [Fact]
    public void Demonstrations_AreMixedAndMostlyGrammatical()
    {
        var demos = _task.Demonstrations(new DeterministicRandom(21), 3000);
        var scores = demos.Select(d => _task.Score(d.Prompt, d.Completion)).ToArray();
        double grammatical = scores.Count(s => s.Grammatical) / (double)scores.Length;
        Assert.InRange(grammatical, 0.8, 0.95); // corruption 12 %, some of which happens to stay grammatical
        Assert.InRange(scores.Average(s => s.Valence), -0.3, 0.3); // positive and negative words alike
        Assert.True(scores.Count(s => s.Valence > 0.5) > 300 && scores.Count(s => s.Valence < -0.5) > 300);
        Assert.Contains(scores, s => s.LengthPenalty > 0); // sometimes too long
    }

    [Fact]
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SentimentTask(new SentimentTaskOptions { TargetLength = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SentimentTask(new SentimentTaskOptions { DemonstrationPositive = 0.7, DemonstrationNegative = 0.7 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SentimentTask(new SentimentTaskOptions { GrammarPenalty = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SentimentTask(new SentimentTaskOptions { PromptBiasScale = double.PositiveInfinity }));
    }
}
