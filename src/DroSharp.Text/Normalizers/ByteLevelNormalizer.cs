using System.Text.Json;
using DroSharp.Text.PreTokenizers;

namespace DroSharp.Text.Normalizers;

/// <summary>Rewrites text as GPT-2 byte characters (HF <c>normalizers::ByteLevel</c>).</summary>
internal sealed class ByteLevelNormalizer : INormalizer
{
    public string Normalize(string text) => ByteLevelAlphabet.Encode(text);

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "ByteLevel");
        writer.WriteEndObject();
    }
}
