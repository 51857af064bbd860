using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>Replaces every match of a literal or regex pattern by <c>content</c> (HF <c>Replace</c>).</summary>
internal sealed class ReplaceNormalizer(TextPattern pattern, string content) : INormalizer
{
    public TextPattern Pattern { get; } = pattern;
    public string Content { get; } = content;

    public string Normalize(string text) => Pattern.ReplaceAll(text, Content);

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
