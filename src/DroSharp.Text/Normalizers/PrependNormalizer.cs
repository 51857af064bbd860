using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>Prepends a string to any non-empty text (HF <c>Prepend</c>, Llama 2 style "▁").</summary>
internal sealed class PrependNormalizer(string prepend) : INormalizer
{
    public string Prepend { get; } = prepend;

    public string Normalize(string text) => text.Length == 0 ? text : Prepend + text;

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Prepend");
        writer.WriteString("prepend", Prepend);
        writer.WriteEndObject();
    }
}
