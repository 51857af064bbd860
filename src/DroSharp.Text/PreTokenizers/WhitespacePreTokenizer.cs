using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>Keeps the runs matched by <c>\w+|[^\w\s]+</c> and drops the rest (HF <c>Whitespace</c>).</summary>
internal sealed class WhitespacePreTokenizer : IPreTokenizer
{
    private static readonly Lazy<TextPattern> WordsOrPunctuation = new(() => TextPattern.FromRegex(@"\w+|[^\w\s]+"));

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        var matches = new List<(int, int)>();
        WordsOrPunctuation.Value.FindMatches(piece.Text, matches);
        Splitter.Split(piece, matches, SplitBehavior.Removed, invert: true, output);
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Whitespace");
        writer.WriteEndObject();
    }
}
