using System.Text.Json;

namespace DroSharp.Text.Decoders;

/// <summary>Turns token strings back into text pieces (HF <c>Decoder::decode_chain</c>); the pieces are then concatenated.</summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);

    void Write(Utf8JsonWriter writer);
}
