using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>Splits on a literal or regex pattern with a given behavior, optionally inverted (HF <c>Split</c>).</summary>
internal sealed class SplitPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert) : IPreTokenizer
{
    public TextPattern Pattern { get; } = pattern;
    public SplitBehavior Behavior { get; } = behavior;
    public bool Invert { get; } = invert;

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        var matches = new List<(int, int)>();
        Pattern.FindMatches(piece.Text, matches);
        Splitter.Split(piece, matches, Behavior, Invert, output);
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Split");
        writer.WritePropertyName("pattern");
        Pattern.Write(writer);
        writer.WriteString("behavior", Behavior.ToString());
        writer.WriteBoolean("invert", Invert);
        writer.WriteEndObject();
    }
}
