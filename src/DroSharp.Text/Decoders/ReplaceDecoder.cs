using System.Text.Json;

namespace DroSharp.Text.Decoders;

/// <summary>Replaces a pattern in every token (HF <c>decoders::Replace</c>, e.g. "▁" → " ").</summary>
internal sealed class ReplaceDecoder(TextPattern pattern, string content) : IDecoder
{
    public TextPattern Pattern { get; } = pattern;
    public string Content { get; } = content;

    public List<string> DecodeChain(List<string> tokens) => tokens.ConvertAll(t => Pattern.ReplaceAll(t, Content));

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Replace");
        writer.WritePropertyName("pattern");
        Pattern.Write(writer);
        writer.WriteString("content", Content);
        writer.WriteEndObject();
    }
}
