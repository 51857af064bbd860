namespace DroSharp.Arena.Tasks;

/// <summary>The sign class a valenced word was generated in; its exact valence is drawn from the lexicon seed.</summary>
public enum WordPolarity
{
    Neutral,
    Positive,
    Negative,
}
