using System.Text.Json;

namespace DroSharp.Text.Decoders;

/// <summary>
/// WordPiece: tokens after the first are preceded by a space unless they start with the continuation
/// prefix (removed); <c>cleanup</c> undoes BERT's spacing around punctuation (HF <c>decoders::WordPiece</c>).
/// </summary>
internal sealed class WordPieceDecoder(string prefix, bool cleanup) : IDecoder
{
    public string Prefix { get; } = prefix;
    public bool Cleanup { get; } = cleanup;

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (i != 0)
                t = t.StartsWith(Prefix, StringComparison.Ordinal) ? t[Prefix.Length..] : " " + t;
            if (Cleanup)
            {
                t = t.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
                    .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" do not", " don't").Replace(" 's", "'s")
                    .Replace(" 've", "'ve").Replace(" 're", "'re");
            }
            result.Add(t);
        }
        return result;
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "WordPiece");
        writer.WriteString("prefix", Prefix);
        writer.WriteBoolean("cleanup", Cleanup);
        writer.WriteEndObject();
    }
}
