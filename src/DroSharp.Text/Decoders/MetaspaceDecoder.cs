using System.Text;
using System.Text.Json;
using DroSharp.Text.PreTokenizers;

namespace DroSharp.Text.Decoders;

/// <summary>
/// <c>▁</c> → space, except that in the first token the <c>▁</c>s are dropped unless the scheme is Never
/// (HF <c>decoders::Metaspace</c>).
/// </summary>
internal sealed class MetaspaceDecoder(char replacement, PrependScheme prependScheme, bool split) : IDecoder
{
    public char Replacement { get; } = replacement;
    public PrependScheme PrependScheme { get; } = prependScheme;
    public bool Split { get; } = split;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (t.IndexOf(Replacement) < 0) { result.Add(t); continue; }
            var sb = new StringBuilder(t.Length);
            foreach (char c in t)
            {
                if (c != Replacement) sb.Append(c);
                else if (!(i == 0 && PrependScheme != PrependScheme.Never)) sb.Append(' ');
            }
            result.Add(sb.ToString());
        }
        return result;
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Metaspace");
        MetaspacePreTokenizer.WriteFields(writer, Replacement, PrependScheme, Split);
        writer.WriteEndObject();
    }
}
