using DroSharp.Alignment.Data;
using DroSharp.Models.T5;
using DroSharp.Text;

namespace DroSharp.Cli;

/// <summary>Loads a model directory's pieces for the commands, turning format problems into one-line user errors.</summary>
internal static class ModelDirectory
{
    public static T5ForConditionalGeneration LoadPolicy(string dir)
    {
        try { return T5ModelFiles.LoadPolicy(dir); }
        catch (ArgumentException e) { throw new UserErrorException($"{dir}: {e.Message}"); }
    }

    /// <summary>The directory's tokenizer.json, or null when it has none (then data must give token ids).</summary>
    public static Tokenizer? LoadTokenizer(string dir)
    {
        string path = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(path)) return null;
        try { return Tokenizer.FromFile(path); }
        catch (Exception e) when (e is FormatException or IOException) { throw new UserErrorException(e.Message); }
    }

    public static ITextEncoder? Encoder(Tokenizer? tokenizer) =>
        tokenizer is null ? null : ITextEncoder.From(text => tokenizer.EncodeIds(text, addSpecialTokens: true));

    /// <summary>Ids of text (encoded with the tokenizer, special tokens such as T5's &lt;/s&gt; appended) or ids used verbatim.</summary>
    public static int[] Ids(TextOrIds value, Tokenizer? tokenizer, string file, int line, string field)
    {
        if (value.HasIds) return value.Ids!;
        if (tokenizer is null) throw new UserErrorException($"{file}:{line}: field '{field}' is text but the model directory has no tokenizer.json; give '{field}_ids' instead");
        return tokenizer.EncodeIds(value.Text!, addSpecialTokens: true);
    }
}
