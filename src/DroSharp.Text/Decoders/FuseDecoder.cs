using System.Text.Json;

namespace DroSharp.Text.Decoders;

/// <summary>Concatenates all tokens into one (HF <c>decoders::Fuse</c>).</summary>
internal sealed class FuseDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Fuse");
        writer.WriteEndObject();
    }
}
