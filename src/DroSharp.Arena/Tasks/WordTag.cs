namespace DroSharp.Arena.Tasks;

/// <summary>Part of speech of a word that may appear in a sentiment completion.</summary>
public enum WordTag
{
    /// <summary>Modifies the next adjective's valence by a hidden multiplier (very, slightly…).</summary>
    Adverb,
    /// <summary>Carries a hidden valence (brilliant, dull, long…).</summary>
    Adjective,
    /// <summary>Joins two adjective phrases (and, but, yet).</summary>
    Conjunction,
    /// <summary>The word "with", which opens the closing noun phrase.</summary>
    With,
    /// <summary>Plural noun with a hidden valence (laughs, flaws, scenes…).</summary>
    Noun,
    /// <summary>The period that ends a review.</summary>
    End,
}
