using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>When Metaspace writes the replacement character in front of a piece.</summary>
internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>
/// SentencePiece word boundaries (HF <c>Metaspace</c>): spaces become <c>▁</c>, a <c>▁</c> is prepended per
/// <see cref="PrependScheme"/> (unless the piece already starts with one), and with <c>split</c> the text
/// is cut before every <c>▁</c> (MergedWithNext). Old files say <c>add_prefix_space</c> instead of
/// <c>prepend_scheme</c>: <c>false</c> means Never; <c>true</c> or absent means Always.
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme, bool split) : IPreTokenizer
{
    public char Replacement { get; } = replacement;
    public PrependScheme PrependScheme { get; } = prependScheme;
    public bool SplitOnReplacement { get; } = split;

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        string text = piece.Text.Replace(' ', Replacement);
        bool prepend = PrependScheme switch
        {
            PrependScheme.Always => !text.StartsWith(Replacement),
            PrependScheme.First => !text.StartsWith(Replacement) && piece.AtStart,
            _ => false,
        };
        if (prepend) text = Replacement + text;
        var p = new PreToken(text, piece.AtStart);
        if (!SplitOnReplacement)
        {
            if (text.Length > 0) output.Add(p);
            return;
        }
        var matches = new List<(int, int)>();
        for (int i = 0; i < text.Length; i++)
            if (text[i] == Replacement) matches.Add((i, i + 1));
        Splitter.Split(p, matches, SplitBehavior.MergedWithNext, false, output);
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Metaspace");
        WriteFields(writer, Replacement, PrependScheme, SplitOnReplacement);
        writer.WriteEndObject();
    }

    internal static void WriteFields(Utf8JsonWriter writer, char replacement, PrependScheme scheme, bool split)
    {
        writer.WriteString("replacement", replacement.ToString());
        writer.WriteString("prepend_scheme", scheme switch
        {
            PrependScheme.Always => "always",
            PrependScheme.First => "first",
            _ => "never",
        });
        writer.WriteBoolean("split", split);
    }
}
