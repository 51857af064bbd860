using System.Text.Json;

namespace DroSharp.Text.Decoders;

/// <summary>Replaces the end-of-word suffix with a space, except on the last token (HF <c>BPEDecoder</c>).</summary>
internal sealed class BpeSuffixDecoder(string suffix) : IDecoder
{
    public string Suffix { get; } = suffix;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
            result.Add(tokens[i].Replace(Suffix, i == tokens.Count - 1 ? "" : " "));
        return result;
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "BPEDecoder");
        writer.WriteString("suffix", Suffix);
        writer.WriteEndObject();
    }
}
