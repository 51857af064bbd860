using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>Applies pre-tokenizers in order, each to every piece the previous one produced (HF <c>Sequence</c>).</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> preTokenizers) : IPreTokenizer
{
    public IReadOnlyList<IPreTokenizer> PreTokenizers { get; } = preTokenizers;

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        var current = new List<PreToken> { piece };
        var next = new List<PreToken>();
        foreach (var p in PreTokenizers)
        {
            next.Clear();
            foreach (var t in current) p.PreTokenize(t, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Sequence");
        writer.WriteStartArray("pretokenizers");
        foreach (var p in PreTokenizers) p.Write(writer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
