using DroSharp.Tensors;

namespace DroSharp.Arena.Tasks;

/// <summary>
/// A toy of the DPO paper's controlled-sentiment task. A prompt opens a short film review,
/// <c>opener? (the|this) subject (was|is|seemed|looked)</c>, e.g. "i thought the acting was"; the completion
/// continues it, e.g. "very funny but slightly long with great songs .".
///
/// Text format: lower-case words separated by spaces, the period is its own word. Completions are split on
/// whitespace after lower-casing, and '.', ',', '!', '?' are split off the words they touch.
///
/// Reward (all the numbers come from <see cref="SentimentLexicon"/>, hidden from the model):
///   r = b(subject) + Σ valence − grammar penalty − length penalty
///   valence: each distinct adjective or noun counts once (a repeat adds 0); an adjective right after an
///            adverb is multiplied by the adverb's multiplier; only words before the grammar breaks count
///            (the longest prefix that can still become a grammatical completion), so padding earns nothing;
///   grammar: 0 when the words match <see cref="SentimentGrammar"/>, GrammarPenalty otherwise (unknown words,
///            a missing or early period, words in the wrong order);
///   length:  LengthPenalty × max(0, words − TargetLength), the period counted.
/// </summary>
public sealed class SentimentTask : ArenaTask
{
    private readonly SentimentTaskOptions _options;
    private readonly SentimentLexicon _lexicon;
    private readonly string[] _vocabulary;
    private readonly string[] _allPrompts;
    private readonly IReadOnlyList<SentimentWord>[] _adjectivesByPolarity;
    private readonly IReadOnlyList<SentimentWord>[] _nounsByPolarity;

    public SentimentTask() : this(new SentimentTaskOptions()) { }

    public SentimentTask(SentimentTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _lexicon = new SentimentLexicon(options.LexiconSeed, options.PromptBiasScale);

        var prompts = new List<string>();
        foreach (string opener in SentimentWordLists.Openers)
            foreach (string det in SentimentWordLists.Determiners)
                foreach (string subject in SentimentWordLists.Subjects)
                    foreach (string link in SentimentWordLists.Links)
                        prompts.Add(FormatPrompt(opener, det, subject, link));
        _allPrompts = prompts.ToArray();

        var vocabulary = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string p in _allPrompts) vocabulary.UnionWith(p.Split(' '));
        foreach (var w in _lexicon.Words) vocabulary.Add(w.Word);
        _vocabulary = vocabulary.ToArray();

        _adjectivesByPolarity = [.. Enum.GetValues<WordPolarity>().Select(p => _lexicon.Of(WordTag.Adjective, p))];
        _nounsByPolarity = [.. Enum.GetValues<WordPolarity>().Select(p => _lexicon.Of(WordTag.Noun, p))];
    }

    public SentimentTaskOptions Options => _options;

    /// <summary>The hidden lexicon (for analysis and tests; never shown to the model).</summary>
    public SentimentLexicon Lexicon => _lexicon;

    public override string Name => "sentiment";

    public override string Description =>
        "Continue the opening of a film review (\"i thought the acting was\" → \"very funny with great songs .\"). " +
        "r is the sum of hidden valences of the distinct adjectives and nouns used (adverbs scale the next adjective), " +
        "plus a hidden offset per review subject, minus " +
        $"{_options.GrammarPenalty:0.##} when the words break the grammar `AP (CONJ AP)* (with ADJ? NOUN)? .` (AP = ADV? ADJ; words after the break earn nothing) " +
        $"and {_options.LengthPenalty:0.##} per word beyond {_options.TargetLength}. " +
        "Demonstrations use positive, negative and neutral words alike, and are sometimes malformed.";

    public override FeedbackThreshold DefaultFeedback => new(0.0, 0.5);

    /// <summary>
    /// 40 % of the 1,600 prompts are held out, so that the validation and the test split each hold about 320
    /// (enough for 256 of each); 960 remain for training.
    /// </summary>
    public override double EvalFraction => 0.4;

    public override int MaxCompletionTokens => _options.MaxCompletionTokens;

    public override IReadOnlyList<string> Vocabulary => _vocabulary;

    protected override IReadOnlyList<string> AllPrompts => _allPrompts;

    public static string FormatPrompt(string opener, string determiner, string subject, string link)
        => opener.Length == 0 ? $"{determiner} {subject} {link}" : $"{opener} {determiner} {subject} {link}";

    /// <summary>Splits a prompt into its slots; a clear error when it is not a prompt of this task.</summary>
    public static (string Opener, string Determiner, string Subject, string Link) ParsePrompt(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var words = Words(prompt);
        if (words.Count < 3)
            throw new FormatException($"sentiment prompt '{prompt}' is not of the form 'opener? the|this subject was|is|seemed|looked'");
        string link = words[^1], subject = words[^2], det = words[^3];
        string opener = string.Join(' ', words.Take(words.Count - 3));
        if (!SentimentWordLists.Links.Contains(link))
            throw new FormatException($"sentiment prompt '{prompt}': last word '{link}' is not one of {string.Join('|', SentimentWordLists.Links)}");
        if (!SentimentWordLists.Subjects.Contains(subject))
            throw new FormatException($"sentiment prompt '{prompt}': '{subject}' is not a review subject");
        if (!SentimentWordLists.Determiners.Contains(det))
            throw new FormatException($"sentiment prompt '{prompt}': '{det}' should be 'the' or 'this'");
        if (!SentimentWordLists.Openers.Contains(opener))
            throw new FormatException($"sentiment prompt '{prompt}': unknown opener '{opener}'");
        return (opener, det, subject, link);
    }

    /// <summary>Lower-cased words; '.', ',', '!', '?' become words of their own.</summary>
    public static List<string> Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<string>();
        foreach (string chunk in text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            int start = 0;
            for (int i = 0; i < chunk.Length; i++)
            {
                if (chunk[i] is '.' or ',' or '!' or '?')
                {
                    if (i > start) words.Add(chunk[start..i]);
                    words.Add(chunk[i].ToString());
                    start = i + 1;
                }
            }
            if (start < chunk.Length) words.Add(chunk[start..]);
        }
        return words;
    }

    public override double Reward(string prompt, string completion) => Score(prompt, completion).Total;

    /// <summary>The reward with its parts.</summary>
    public SentimentScore Score(string prompt, string completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var (_, _, subject, _) = ParsePrompt(prompt);
        var words = Words(completion);
        var tags = new WordTag?[words.Count];
        var entries = new SentimentWord[words.Count];
        for (int i = 0; i < words.Count; i++)
            if (_lexicon.TryGet(words[i], out entries[i])) tags[i] = entries[i].Tag;

        int viable = SentimentGrammar.ViablePrefixLength(tags, out bool grammatical);
        double valence = 0;
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < viable; i++)
        {
            if (tags[i] is not (WordTag.Adjective or WordTag.Noun) || !used.Add(words[i])) continue;
            double v = entries[i].Value;
            if (tags[i] == WordTag.Adjective && i > 0 && tags[i - 1] == WordTag.Adverb) v *= entries[i - 1].Value;
            valence += v;
        }

        double grammarPenalty = grammatical ? 0 : _options.GrammarPenalty;
        double lengthPenalty = _options.LengthPenalty * Math.Max(0, words.Count - _options.TargetLength);
        return new SentimentScore(_lexicon.SubjectBias(subject), valence, grammarPenalty, lengthPenalty, grammatical, words.Count);
    }

    /// <summary>
    /// Exact maximum over grammatical completions of at most MaxCompletionTokens words: a APs with the
    /// strongest adverb, b without, and an optional closing noun phrase, filled with the best distinct words.
    /// </summary>
    public override double BestReward(string prompt)
    {
        var (_, _, subject, _) = ParsePrompt(prompt);
        double[] adjectives = _lexicon.Adjectives.Select(w => w.Value).Where(v => v > 0).OrderDescending().ToArray();
        double bestNoun = Math.Max(0, _lexicon.Nouns.Max(w => w.Value));
        double bestMultiplier = Math.Max(1, _lexicon.Adverbs.Max(w => w.Value));
        double best = double.NegativeInfinity;
        int max = _options.MaxCompletionTokens;
        for (int a = 0; a <= max; a++)
        {
            for (int b = 0; a + b <= max; b++)
            {
                int k = a + b;
                if (k == 0) continue;
                for (int np = 0; np < 3; np++) // none, "with NOUN", "with ADJ NOUN"
                {
                    int length = 2 * a + b + (k - 1) + (np == 0 ? 0 : np + 1) + 1;
                    if (length > max) continue;
                    int adjectiveSlots = k + (np == 2 ? 1 : 0);
                    double value = 0;
                    for (int i = 0; i < Math.Min(adjectiveSlots, adjectives.Length); i++)
                        value += i < a ? bestMultiplier * adjectives[i] : adjectives[i];
                    if (np > 0) value += bestNoun;
                    value -= _options.LengthPenalty * Math.Max(0, length - _options.TargetLength);
                    best = Math.Max(best, value);
                }
            }
        }
        return _lexicon.SubjectBias(subject) + best;
    }

    /// <summary>
    /// The imperfect demonstrator: 1–3 adjective phrases (adverb 30 %), a closing noun phrase 35 % of the
    /// time, every adjective/noun positive, negative or neutral with the configured odds, then a period;
    /// corrupted with probability DemonstrationCorruption.
    /// </summary>
    public override string DemonstrationFor(string prompt, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var (_, _, subject, _) = ParsePrompt(prompt);
        double u = rng.NextDouble();
        int phrases = u < 0.5 ? 1 : u < 0.85 ? 2 : 3;
        var words = new List<string>();
        for (int i = 0; i < phrases; i++)
        {
            if (i > 0) words.Add(Pick(_lexicon.Conjunctions, rng).Word);
            if (rng.NextDouble() < 0.3) words.Add(Pick(_lexicon.Adverbs, rng).Word);
            words.Add(Pick(_adjectivesByPolarity[(int)DemonstratorPolarity(rng)], rng).Word);
        }
        if (rng.NextDouble() < 0.35)
        {
            words.Add(SentimentWordLists.WithWord);
            if (rng.NextDouble() < 0.4) words.Add(Pick(_adjectivesByPolarity[(int)DemonstratorPolarity(rng)], rng).Word);
            words.Add(Pick(_nounsByPolarity[(int)DemonstratorPolarity(rng)], rng).Word);
        }
        words.Add(SentimentWordLists.EndWord);
        if (rng.NextDouble() < _options.DemonstrationCorruption) Corrupt(words, subject, rng);
        return string.Join(' ', words);
    }

    /// <summary>1–4 adjective phrases of uniformly chosen words, adverb and noun phrase 50 % each, corrupted 15 % of the time.</summary>
    public override string RandomCompletion(string prompt, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var (_, _, subject, _) = ParsePrompt(prompt);
        int phrases = 1 + rng.NextInt(4);
        var words = new List<string>();
        for (int i = 0; i < phrases; i++)
        {
            if (i > 0) words.Add(Pick(_lexicon.Conjunctions, rng).Word);
            if (rng.NextDouble() < 0.5) words.Add(Pick(_lexicon.Adverbs, rng).Word);
            words.Add(Pick(_lexicon.Adjectives, rng).Word);
        }
        if (rng.NextDouble() < 0.5)
        {
            words.Add(SentimentWordLists.WithWord);
            if (rng.NextDouble() < 0.5) words.Add(Pick(_lexicon.Adjectives, rng).Word);
            words.Add(Pick(_lexicon.Nouns, rng).Word);
        }
        words.Add(SentimentWordLists.EndWord);
        if (rng.NextDouble() < 0.15) Corrupt(words, subject, rng);
        return string.Join(' ', words);
    }

    protected override string DrawPrompt(DeterministicRandom rng) => FormatPrompt(
        SentimentWordLists.Openers[rng.NextInt(SentimentWordLists.Openers.Length)],
        SentimentWordLists.Determiners[rng.NextInt(SentimentWordLists.Determiners.Length)],
        SentimentWordLists.Subjects[rng.NextInt(SentimentWordLists.Subjects.Length)],
        SentimentWordLists.Links[rng.NextInt(SentimentWordLists.Links.Length)]);

    private WordPolarity DemonstratorPolarity(DeterministicRandom rng)
    {
        double u = rng.NextDouble();
        return u < _options.DemonstrationPositive ? WordPolarity.Positive
            : u < _options.DemonstrationPositive + _options.DemonstrationNegative ? WordPolarity.Negative
            : WordPolarity.Neutral;
    }

    /// <summary>One slip: the period dropped, a word repeated, two neighbours swapped, or the subject inserted.</summary>
    private static void Corrupt(List<string> words, string subject, DeterministicRandom rng)
    {
        switch (rng.NextInt(4))
        {
            case 0:
                words.RemoveAt(words.Count - 1);
                break;
            case 1:
                int i = rng.NextInt(words.Count);
                words.Insert(i, words[i]);
                break;
            case 2 when words.Count >= 2:
                int j = rng.NextInt(words.Count - 1);
                (words[j], words[j + 1]) = (words[j + 1], words[j]);
                break;
            default:
                words.Insert(rng.NextInt(words.Count + 1), subject);
                break;
        }
    }

    private static SentimentWord Pick(IReadOnlyList<SentimentWord> words, DeterministicRandom rng) => words[rng.NextInt(words.Count)];
}
