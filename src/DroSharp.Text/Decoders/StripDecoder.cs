using System.Text.Json;

namespace DroSharp.Text.Decoders;

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing <c>content</c> characters from every token (HF <c>decoders::Strip</c>).</summary>
internal sealed class StripDecoder(char content, int start, int stop) : IDecoder
{
    public char Content { get; } = content;
    public int Start { get; } = start;
    public int Stop { get; } = stop;

    public List<string> DecodeChain(List<string> tokens) => tokens.ConvertAll(t =>
    {
        int from = 0;
        while (from < Start && from < t.Length && t[from] == Content) from++;
        int to = t.Length;
        while (t.Length - to < Stop && to > from && t[to - 1] == Content) to--;
        return t.Substring(from, to - from);
    });

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Strip");
        writer.WriteString("content", Content.ToString());
        writer.WriteNumber("start", Start);
        writer.WriteNumber("stop", Stop);
        writer.WriteEndObject();
    }
}
