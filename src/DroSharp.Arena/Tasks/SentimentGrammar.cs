namespace DroSharp.Arena.Tasks;

/// <summary>
/// The grammar of a sentiment completion, a regular language over word tags:
/// <code>
///   completion := AP (CONJ AP)* (WITH ADJ? NOUN)? END
///   AP         := ADV? ADJ
/// </code>
/// e.g. "very funny but slightly long with great songs ." Recognised by a six-state DFA; a word outside the
/// lexicon (tag null) always fails.
/// </summary>
public static class SentimentGrammar
{
    // States: 0 start of an AP, 1 after ADV, 2 AP complete, 3 after WITH, 4 after WITH ADJ, 5 NP complete, 6 accepted.
    private const int Dead = -1, Accepting = 6;

    private static int Step(int state, WordTag? tag) => (state, tag) switch
    {
        (0, WordTag.Adverb) => 1,
        (0, WordTag.Adjective) => 2,
        (1, WordTag.Adjective) => 2,
        (2, WordTag.Conjunction) => 0,
        (2, WordTag.With) => 3,
        (2, WordTag.End) => Accepting,
        (3, WordTag.Adjective) => 4,
        (3, WordTag.Noun) => 5,
        (4, WordTag.Noun) => 5,
        (5, WordTag.End) => Accepting,
        _ => Dead,
    };

    /// <summary>
    /// Length of the longest prefix that can still be extended to a grammatical completion, and whether the
    /// whole sequence is grammatical.
    /// </summary>
    public static int ViablePrefixLength(IReadOnlyList<WordTag?> tags, out bool accepted)
    {
        ArgumentNullException.ThrowIfNull(tags);
        int state = 0;
        for (int i = 0; i < tags.Count; i++)
        {
            state = Step(state, tags[i]);
            if (state == Dead) { accepted = false; return i; }
        }
        accepted = state == Accepting;
        return tags.Count;
    }

    public static bool IsGrammatical(IReadOnlyList<WordTag?> tags)
    {
        ViablePrefixLength(tags, out bool accepted);
        return accepted;
    }
}
