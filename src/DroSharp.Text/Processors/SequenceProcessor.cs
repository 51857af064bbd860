using System.Text.Json;

namespace DroSharp.Text.Processors;

/// <summary>Applies post-processors in order (HF <c>processors::Sequence</c>, e.g. ByteLevel then a BOS template).</summary>
internal sealed class SequenceProcessor(IReadOnlyList<IPostProcessor> processors) : IPostProcessor
{
    public IReadOnlyList<IPostProcessor> Processors { get; } = processors;

    public void ProcessSingle(List<int> ids, List<string> tokens, List<bool> special)
    {
        foreach (var p in Processors) p.ProcessSingle(ids, tokens, special);
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Sequence");
        writer.WriteStartArray("processors");
        foreach (var p in Processors) p.Write(writer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
