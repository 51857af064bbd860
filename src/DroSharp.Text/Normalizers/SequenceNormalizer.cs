using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>Applies normalizers in order (HF <c>Sequence</c>).</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    public IReadOnlyList<INormalizer> Normalizers { get; } = normalizers;

    public string Normalize(string text)
    {
        foreach (var n in Normalizers) text = n.Normalize(text);
        return text;
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Sequence");
        writer.WriteStartArray("normalizers");
        foreach (var n in Normalizers) n.Write(writer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
