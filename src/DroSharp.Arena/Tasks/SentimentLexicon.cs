using System.Collections.Frozen;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tasks;

/// <summary>
/// The hidden lexicon of the sentiment task, generated from a seed:
///   positive adjectives and nouns: valence ~ U(0.4, 1.0); negative: ~ U(−1.0, −0.4); neutral: ~ U(−0.05, 0.05);
///   intensifying adverbs: multiplier ~ U(1.2, 1.6); damping adverbs: ~ U(0.4, 0.8);
///   subjects of the prompt: reward offset ~ U(−B, B) (B = PromptBiasScale).
/// The offset does not change which completion is best, but it makes the expected reward depend on the
/// prompt, which is what a value function V(x) has to learn and a single global reference point cannot.
/// </summary>
public sealed class SentimentLexicon
{
    private readonly FrozenDictionary<string, SentimentWord> _words;
    private readonly FrozenDictionary<string, double> _subjectBias;

    public SentimentLexicon(ulong seed, double promptBiasScale = 0.75)
    {
        if (!(promptBiasScale >= 0) || !double.IsFinite(promptBiasScale))
            throw new ArgumentOutOfRangeException(nameof(promptBiasScale), promptBiasScale, "must be finite and ≥ 0");
        var rng = new DeterministicRandom(seed);
        var words = new Dictionary<string, SentimentWord>(StringComparer.Ordinal);
        void Add(string[] list, WordTag tag, WordPolarity polarity, double low, double high)
        {
            foreach (string w in list)
            {
                double value = low + (high - low) * rng.NextDouble();
                if (!words.TryAdd(w, new SentimentWord(w, tag, polarity, value)))
                    throw new InvalidOperationException($"sentiment lexicon: word '{w}' is listed twice");
            }
        }
        Add(SentimentWordLists.PositiveAdjectives, WordTag.Adjective, WordPolarity.Positive, 0.4, 1.0);
        Add(SentimentWordLists.NegativeAdjectives, WordTag.Adjective, WordPolarity.Negative, -1.0, -0.4);
        Add(SentimentWordLists.NeutralAdjectives, WordTag.Adjective, WordPolarity.Neutral, -0.05, 0.05);
        Add(SentimentWordLists.PositiveNouns, WordTag.Noun, WordPolarity.Positive, 0.4, 1.0);
        Add(SentimentWordLists.NegativeNouns, WordTag.Noun, WordPolarity.Negative, -1.0, -0.4);
        Add(SentimentWordLists.NeutralNouns, WordTag.Noun, WordPolarity.Neutral, -0.05, 0.05);
        Add(SentimentWordLists.Intensifiers, WordTag.Adverb, WordPolarity.Neutral, 1.2, 1.6);
        Add(SentimentWordLists.Dampeners, WordTag.Adverb, WordPolarity.Neutral, 0.4, 0.8);
        Add(SentimentWordLists.Conjunctions, WordTag.Conjunction, WordPolarity.Neutral, 0, 0);
        Add([SentimentWordLists.WithWord], WordTag.With, WordPolarity.Neutral, 0, 0);
        Add([SentimentWordLists.EndWord], WordTag.End, WordPolarity.Neutral, 0, 0);
        _words = words.ToFrozenDictionary(StringComparer.Ordinal);

        var bias = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string s in SentimentWordLists.Subjects)
        {
            if (words.ContainsKey(s)) throw new InvalidOperationException($"sentiment lexicon: subject '{s}' is also a completion word");
            bias.Add(s, promptBiasScale * (2 * rng.NextDouble() - 1));
        }
        _subjectBias = bias.ToFrozenDictionary(StringComparer.Ordinal);

        Adjectives = Select(WordTag.Adjective);
        Nouns = Select(WordTag.Noun);
        Adverbs = Select(WordTag.Adverb);
        Conjunctions = Select(WordTag.Conjunction);
    }

    /// <summary>Every completion word, in no particular order.</summary>
    public IEnumerable<SentimentWord> Words => _words.Values;

    public IReadOnlyList<SentimentWord> Adjectives { get; }
    public IReadOnlyList<SentimentWord> Nouns { get; }
    public IReadOnlyList<SentimentWord> Adverbs { get; }
    public IReadOnlyList<SentimentWord> Conjunctions { get; }

    public bool TryGet(string word, out SentimentWord entry) => _words.TryGetValue(word, out entry);

    /// <summary>Hidden reward offset of a prompt subject ("movie", "plot"…); throws for an unknown subject.</summary>
    public double SubjectBias(string subject)
        => _subjectBias.TryGetValue(subject, out double b) ? b : throw new ArgumentException($"'{subject}' is not a subject of the sentiment task", nameof(subject));

    /// <summary>The valenced words of a tag and polarity, ordered by word (deterministic for sampling).</summary>
    public IReadOnlyList<SentimentWord> Of(WordTag tag, WordPolarity polarity)
        => _words.Values.Where(w => w.Tag == tag && w.Polarity == polarity).OrderBy(w => w.Word, StringComparer.Ordinal).ToArray();

    private SentimentWord[] Select(WordTag tag)
        => _words.Values.Where(w => w.Tag == tag).OrderBy(w => w.Word, StringComparer.Ordinal).ToArray();
}
