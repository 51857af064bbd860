using System.Text.Json;

namespace DroSharp.Text.PreTokenizers;

/// <summary>
/// GPT-2 byte-level pre-tokenization (HF <c>pre_tokenizers::ByteLevel</c>): optionally prepend a space,
/// optionally split with GPT-2's regex (Isolated), then write every piece's UTF-8 bytes as alphabet characters.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool trimOffsets, bool useRegex) : IPreTokenizer
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly Lazy<TextPattern> Gpt2Regex = new(() => TextPattern.FromRegex(Gpt2Pattern));

    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public bool TrimOffsets { get; } = trimOffsets;
    public bool UseRegex { get; } = useRegex;

    public void PreTokenize(PreToken piece, List<PreToken> output)
    {
        string text = piece.Text;
        if (AddPrefixSpace && !text.StartsWith(' ')) text = " " + text;
        if (!UseRegex)
        {
            if (text.Length > 0) output.Add(new PreToken(ByteLevelAlphabet.Encode(text), piece.AtStart));
            return;
        }
        var matches = new List<(int, int)>();
        Gpt2Regex.Value.FindMatches(text, matches);
        int first = output.Count;
        Splitter.Split(new PreToken(text, piece.AtStart), matches, SplitBehavior.Isolated, false, output);
        for (int i = first; i < output.Count; i++)
            output[i] = output[i] with { Text = ByteLevelAlphabet.Encode(output[i].Text) };
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "ByteLevel");
        WriteFields(writer, AddPrefixSpace, TrimOffsets, UseRegex);
        writer.WriteEndObject();
    }

    internal static void WriteFields(Utf8JsonWriter writer, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        writer.WriteBoolean("add_prefix_space", addPrefixSpace);
        writer.WriteBoolean("trim_offsets", trimOffsets);
        writer.WriteBoolean("use_regex", useRegex);
    }
}
