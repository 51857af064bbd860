using System.Text;
using System.Text.Json;
using DroSharp.Text.PreTokenizers;

namespace DroSharp.Text.Decoders;

/// <summary>
/// Maps byte-level characters back to bytes and decodes them as UTF-8 (invalid sequences become U+FFFD),
/// all tokens at once so a character split across tokens survives (HF <c>decoders::ByteLevel</c>).
/// A token with a character outside the alphabet (e.g. an added token) contributes its own UTF-8 bytes.
/// </summary>
internal sealed class ByteLevelDecoder(bool addPrefixSpace, bool trimOffsets, bool useRegex) : IDecoder
{
    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public bool TrimOffsets { get; } = trimOffsets;
    public bool UseRegex { get; } = useRegex;

    public List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string t in tokens)
        {
            bool allInAlphabet = true;
            foreach (char c in t)
                if (ByteLevelAlphabet.CharToByte(c) < 0) { allInAlphabet = false; break; }
            if (allInAlphabet)
                foreach (char c in t) bytes.Add((byte)ByteLevelAlphabet.CharToByte(c));
            else
                bytes.AddRange(Encoding.UTF8.GetBytes(t));
        }
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "ByteLevel");
        ByteLevelPreTokenizer.WriteFields(writer, AddPrefixSpace, TrimOffsets, UseRegex);
        writer.WriteEndObject();
    }
}
