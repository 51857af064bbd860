using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>
/// The pre-tokenizers that split on a character class: <c>WhitespaceSplit</c> (drop whitespace),
/// <c>Punctuation</c> (each punctuation character by the given behavior), <c>Digits</c> (each digit
/// isolated, or runs of digits), <c>BertPreTokenizer</c> (whitespace dropped, punctuation isolated).
/// </summary>
internal sealed class CharClassPreTokenizer : IPreTokenizer
{
    public enum Kind { WhitespaceSplit, Punctuation, Digits, Bert }

    public Kind Type { get; }
    public SplitBehavior Behavior { get; }
    public bool IndividualDigits { get; }

    private CharClassPreTokenizer(Kind kind, SplitBehavior behavior, bool individualDigits)
    {
        Type = kind;
        Behavior = behavior;
        IndividualDigits = individualDigits;
    }

    public static CharClassPreTokenizer WhitespaceSplit() => new(Kind.WhitespaceSplit, SplitBehavior.Removed, false);
    public static CharClassPreTokenizer Punctuation(SplitBehavior behavior) => new(Kind.Punctuation, behavior, false);
    public static CharClassPreTokenizer Digits(bool individual) => new(Kind.Digits, individual ? SplitBehavior.Isolated : SplitBehavior.Contiguous, individual);
    public static CharClassPreTokenizer Bert() => new(Kind.Bert, SplitBehavior.Removed, false);

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        var matches = new List<(int, int)>();
        switch (Type)
        {
            case Kind.WhitespaceSplit:
                Splitter.FindCharMatches(piece.Text, CharClasses.IsWhitespace, matches);
                Splitter.Split(piece, matches, SplitBehavior.Removed, false, output);
                break;
            case Kind.Punctuation:
                Splitter.FindCharMatches(piece.Text, CharClasses.IsPunctuation, matches);
                Splitter.Split(piece, matches, Behavior, false, output);
                break;
            case Kind.Digits:
                Splitter.FindCharMatches(piece.Text, CharClasses.IsNumeric, matches);
                Splitter.Split(piece, matches, Behavior, false, output);
                break;
            case Kind.Bert:
                var words = new List<PreToken>();
                Splitter.FindCharMatches(piece.Text, CharClasses.IsWhitespace, matches);
                Splitter.Split(piece, matches, SplitBehavior.Removed, false, words);
                foreach (var w in words)
                {
                    matches.Clear();
                    Splitter.FindCharMatches(w.Text, CharClasses.IsPunctuation, matches);
                    Splitter.Split(w, matches, SplitBehavior.Isolated, false, output);
                }
                break;
        }
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        switch (Type)
        {
            case Kind.WhitespaceSplit:
                writer.WriteString("type", "WhitespaceSplit");
                break;
            case Kind.Punctuation:
                writer.WriteString("type", "Punctuation");
                writer.WriteString("behavior", Behavior.ToString());
                break;
            case Kind.Digits:
                writer.WriteString("type", "Digits");
                writer.WriteBoolean("individual_digits", IndividualDigits);
                break;
            case Kind.Bert:
                writer.WriteString("type", "BertPreTokenizer");
                break;
        }
        writer.WriteEndObject();
    }
}
