namespace DroSharp.Arena.Tasks;

/// <summary>Knobs of <see cref="SentimentTask"/>; the defaults are the arena's standard task.</summary>
public sealed record SentimentTaskOptions
{
    /// <summary>Seed of the hidden valences, multipliers and prompt offsets.</summary>
    public ulong LexiconSeed { get; init; } = 20240517;

    /// <summary>Prompt subjects get a hidden reward offset ~ U(−PromptBiasScale, PromptBiasScale).</summary>
    public double PromptBiasScale { get; init; } = 0.75;

    /// <summary>Words (the final period included) allowed before the length penalty starts.</summary>
    public int TargetLength { get; init; } = 10;

    /// <summary>Subtracted per word beyond <see cref="TargetLength"/>; ≥ the best valence per word so padding never pays.</summary>
    public double LengthPenalty { get; init; } = 1.0;

    /// <summary>Subtracted once from an ungrammatical completion (whose words after the break also earn no valence).</summary>
    public double GrammarPenalty { get; init; } = 2.0;

    /// <summary>Generation budget in words.</summary>
    public int MaxCompletionTokens { get; init; } = 16;

    /// <summary>Probability that the demonstrator picks a positive (resp. negative) adjective or noun; the rest are neutral.</summary>
    public double DemonstrationPositive { get; init; } = 0.3;

    /// <inheritdoc cref="DemonstrationPositive"/>
    public double DemonstrationNegative { get; init; } = 0.3;

    /// <summary>Probability that a demonstration is corrupted (period dropped, word repeated, words swapped, stray word).</summary>
    public double DemonstrationCorruption { get; init; } = 0.12;

    internal void Validate()
    {
        static void Probability(double p, string name)
        {
            if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(name, p, "must be a probability in [0, 1]");
        }
        static void NonNegative(double v, string name)
        {
            if (!(v >= 0) || !double.IsFinite(v)) throw new ArgumentOutOfRangeException(name, v, "must be finite and ≥ 0");
        }
        NonNegative(PromptBiasScale, nameof(PromptBiasScale));
        NonNegative(LengthPenalty, nameof(LengthPenalty));
        NonNegative(GrammarPenalty, nameof(GrammarPenalty));
        if (TargetLength < 2) throw new ArgumentOutOfRangeException(nameof(TargetLength), TargetLength, "must be ≥ 2 (an adjective and the period)");
        if (MaxCompletionTokens < 2) throw new ArgumentOutOfRangeException(nameof(MaxCompletionTokens), MaxCompletionTokens, "must be ≥ 2");
        Probability(DemonstrationPositive, nameof(DemonstrationPositive));
        Probability(DemonstrationNegative, nameof(DemonstrationNegative));
        Probability(DemonstrationCorruption, nameof(DemonstrationCorruption));
        if (DemonstrationPositive + DemonstrationNegative > 1)
            throw new ArgumentOutOfRangeException(nameof(DemonstrationNegative), DemonstrationPositive + DemonstrationNegative, "positive + negative probabilities exceed 1");
    }
}
