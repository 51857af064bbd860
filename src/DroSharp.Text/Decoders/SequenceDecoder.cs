using System.Text.Json;

namespace DroSharp.Text.Decoders;

/// <summary>Chains decoders, each on the previous one's pieces (HF <c>decoders::Sequence</c>).</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> decoders) : IDecoder
{
    public IReadOnlyList<IDecoder> Decoders { get; } = decoders;

    public List<string> DecodeChain(List<string> tokens)
    {
        foreach (var d in Decoders) tokens = d.DecodeChain(tokens);
        return tokens;
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Sequence");
        writer.WriteStartArray("decoders");
        foreach (var d in Decoders) d.Write(writer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
