using System.Text;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tasks;

/// <summary>
/// A task whose true reward r(x, y) is known to the arena and hidden from the model.
/// Text is space-separated words so a word-level tokenizer gives one token per word.
///
/// Prompt split: a prompt is held out iff a salted 64-bit hash of its canonical text falls below
/// <see cref="EvalFraction"/>; training prompts are drawn from the rest. A held-out prompt is a
/// validation prompt (for choosing τ, β, learning rates and steps) iff the next output of the same
/// hash stream falls below <see cref="ValidationShare"/>, else a test prompt (for reporting). The
/// split depends only on the prompt text and the task name, never on a seed, so training, validation
/// and test prompts are disjoint by construction, across runs and seeds.
/// </summary>
public abstract class ArenaTask
{
    /// <summary>Short lower-case name used on the command line (<c>sentiment</c>, <c>arithmetic</c>).</summary>
    public abstract string Name { get; }

    /// <summary>One paragraph for reports: what the prompts are and what r rewards.</summary>
    public abstract string Description { get; }

    /// <summary>Default (c, s) for thumbs feedback σ((r − c)/s), set near the demonstrations' mean reward.</summary>
    public abstract FeedbackThreshold DefaultFeedback { get; }

    /// <summary>Upper bound on completion length in words (tokens) that generation needs to allow.</summary>
    public abstract int MaxCompletionTokens { get; }

    /// <summary>Every word that may appear in a prompt or a well-formed completion, sorted ordinally.</summary>
    public abstract IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Fraction of the prompt space held out for validation and test (by hash).</summary>
    public virtual double EvalFraction => 0.2;

    /// <summary>Fraction of the held-out prompts that are validation prompts; the rest are test prompts.</summary>
    public virtual double ValidationShare => 0.5;

    /// <summary>The hidden true reward of <paramref name="completion"/> for <paramref name="prompt"/>.</summary>
    public abstract double Reward(string prompt, string completion);

    /// <summary>The largest reward any completion can get for this prompt (within <see cref="MaxCompletionTokens"/>).</summary>
    public abstract double BestReward(string prompt);

    /// <summary>A completion from the imperfect demonstrator used for SFT.</summary>
    public abstract string DemonstrationFor(string prompt, DeterministicRandom rng);

    /// <summary>
    /// A completion from a broad proposal distribution (any valence / any digits, sometimes malformed).
    /// Used by oracles (best of many) and tests; not the demonstrator.
    /// </summary>
    public abstract string RandomCompletion(string prompt, DeterministicRandom rng);

    /// <summary>One prompt from the whole prompt distribution, train and held-out alike.</summary>
    protected abstract string DrawPrompt(DeterministicRandom rng);

    /// <summary>
    /// The whole prompt space in a fixed order when it is small enough to list, else null.
    /// When listed, evaluation prompts are a fixed shuffle of its held-out part.
    /// </summary>
    protected virtual IReadOnlyList<string>? AllPrompts => null;

    /// <summary>True when the prompt is held out (a validation or a test prompt), never a training prompt.</summary>
    public bool IsHeldOut(string prompt) => SplitOf(prompt) != PromptSplit.Train;

    /// <summary>Which split the prompt belongs to (a function of its canonical text and the task name only).</summary>
    public PromptSplit SplitOf(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ulong h = 0xCBF29CE484222325UL; // FNV-1a 64 over the task name, a separator, then the canonical prompt
        foreach (char ch in Name) h = (h ^ ch) * 0x100000001B3UL;
        h = (h ^ 0x1F) * 0x100000001B3UL;
        foreach (char ch in CanonicalPrompt(prompt)) h = (h ^ ch) * 0x100000001B3UL;
        ulong mixed = DeterministicRandom.SplitMix64(ref h); // FNV alone is weak in its low bits
        if ((mixed >> 11) * (1.0 / (1UL << 53)) >= EvalFraction) return PromptSplit.Train;
        ulong second = DeterministicRandom.SplitMix64(ref h); // the stream's next output: independent of the first
        return (second >> 11) * (1.0 / (1UL << 53)) < ValidationShare ? PromptSplit.Validation : PromptSplit.Test;
    }

    /// <summary>
    /// <paramref name="n"/> training prompts drawn i.i.d. (with replacement) from the prompt distribution
    /// restricted to the training split. Deterministic given the generator state.
    /// </summary>
    public IReadOnlyList<string> SamplePrompts(DeterministicRandom rng, int n)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var prompts = new List<string>(n);
        int rejectedInARow = 0;
        while (prompts.Count < n)
        {
            string p = DrawPrompt(rng);
            if (IsHeldOut(p))
            {
                if (++rejectedInARow > 10_000)
                    throw new InvalidOperationException($"task '{Name}': 10000 prompts in a row fell in the held-out split; the training split looks empty");
                continue;
            }
            rejectedInARow = 0;
            prompts.Add(p);
        }
        return prompts;
    }

    /// <summary>The first <paramref name="n"/> validation prompts (for choosing settings); see <see cref="HeldOutPrompts"/>.</summary>
    public IReadOnlyList<string> ValidationPrompts(int n) => HeldOutPrompts(PromptSplit.Validation, n);

    /// <summary>The first <paramref name="n"/> test prompts (for reporting); see <see cref="HeldOutPrompts"/>.</summary>
    public IReadOnlyList<string> TestPrompts(int n) => HeldOutPrompts(PromptSplit.Test, n);

    /// <summary>
    /// The first <paramref name="n"/> distinct prompts of a held-out split in a fixed order: the same for every
    /// call, run and seed, and HeldOutPrompts(s, n) is a prefix of HeldOutPrompts(s, m) for m ≥ n.
    /// </summary>
    public IReadOnlyList<string> HeldOutPrompts(PromptSplit split, int n)
    {
        if (split == PromptSplit.Train) throw new ArgumentException("training prompts are sampled (SamplePrompts), not listed", nameof(split));
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var rng = new DeterministicRandom(0xE7A1_5EEDUL ^ (ulong)StableHash(Name) ^ (split == PromptSplit.Test ? 0UL : 0x5A1DUL));
        var all = AllPrompts;
        string what = split == PromptSplit.Validation ? "validation" : "test";
        if (all is not null)
        {
            var inSplit = all.Where(p => SplitOf(p) == split).ToArray();
            if (n > inSplit.Length)
                throw new ArgumentOutOfRangeException(nameof(n), n, $"task '{Name}' has only {inSplit.Length} held-out {what} prompts");
            rng.Shuffle(inSplit.AsSpan());
            return inSplit[..n];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var prompts = new List<string>(n);
        long attempts = 0, maxAttempts = 1000L * n + 100_000;
        while (prompts.Count < n)
        {
            if (++attempts > maxAttempts)
                throw new InvalidOperationException($"task '{Name}': found only {prompts.Count} distinct held-out {what} prompts in {maxAttempts} draws, {n} requested");
            string p = DrawPrompt(rng);
            if (SplitOf(p) == split && seen.Add(p)) prompts.Add(p);
        }
        return prompts;
    }

    /// <summary><paramref name="n"/> SFT examples on training prompts, completions from the imperfect demonstrator.</summary>
    public IReadOnlyList<Demonstration> Demonstrations(DeterministicRandom rng, int n)
    {
        var prompts = SamplePrompts(rng, n);
        var demos = new Demonstration[n];
        for (int i = 0; i < n; i++) demos[i] = new Demonstration(prompts[i], DemonstrationFor(prompts[i], rng));
        return demos;
    }

    /// <summary>
    /// Texts for training a word-level tokenizer: first one line holding the whole <see cref="Vocabulary"/>
    /// (so every word the task can use gets a token whatever the sample), then the prompt and the
    /// completion of <paramref name="n"/> demonstrations, one text per line.
    /// </summary>
    public IReadOnlyList<string> Corpus(DeterministicRandom rng, int n)
    {
        var lines = new List<string>(2 * n + 1) { string.Join(' ', Vocabulary) };
        foreach (var d in Demonstrations(rng, n))
        {
            lines.Add(d.Prompt);
            if (d.Completion.Length > 0) lines.Add(d.Completion);
        }
        return lines;
    }

    /// <summary>
    /// The form of a prompt that decides its split, so that spellings the reward treats as the same prompt
    /// land on the same side. Default: lower case, whitespace collapsed to single spaces.
    /// </summary>
    protected virtual string CanonicalPrompt(string prompt) => string.Join(' ', prompt.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static int StableHash(string s)
    {
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) h = (h ^ b) * 16777619;
        return (int)h;
    }
}
