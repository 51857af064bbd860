namespace DroSharp.Arena.Tasks;

/// <summary>
/// The parts of a sentiment reward: Total = PromptBias + Valence − GrammarPenalty − LengthPenalty.
/// </summary>
public readonly record struct SentimentScore(
    double PromptBias,
    double Valence,
    double GrammarPenalty,
    double LengthPenalty,
    bool Grammatical,
    int Words)
{
    public double Total => PromptBias + Valence - GrammarPenalty - LengthPenalty;
}
