namespace DroSharp.Arena.Tasks;

/// <summary>
/// One completion word of the sentiment lexicon. <see cref="Value"/> is the hidden valence for adjectives
/// and nouns, the hidden multiplier for adverbs, and 0 for function words.
/// </summary>
public readonly record struct SentimentWord(string Word, WordTag Tag, WordPolarity Polarity, double Value);
