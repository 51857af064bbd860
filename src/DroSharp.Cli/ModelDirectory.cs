using DroSharp.Alignment.Data;
using DroSharp.Models;
using DroSharp.Text;

namespace DroSharp.Cli;

/// <summary>Loads a model directory's pieces for the commands, turning format problems into one-line user errors.</summary>
internal static class ModelDirectory
{
    public static IPolicyModel LoadPolicy(string dir)
    {
        try { return ModelFamilies.LoadPolicy(dir); }
        catch (ArgumentException e) { throw new UserErrorException($"{dir}: {e.Message}"); }
    }

    /// <summary>
    /// The directory's tokenizer.json, or null when it has none (then data must give token ids). A LoRA
    /// adapter directory without one uses its base model's.
    /// </summary>
    public static Tokenizer? LoadTokenizer(string dir)
    {
        string path = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(path) && Models.Lora.PeftAdapterFiles.IsAdapterDirectory(dir)
            && Models.Lora.PeftAdapterConfig.Load(dir).BaseModelNameOrPath is { } baseDir && Directory.Exists(baseDir))
            path = Path.Combine(baseDir, "tokenizer.json");
        if (!File.Exists(path)) return null;
        try { return Tokenizer.FromFile(path); }
        catch (Exception e) when (e is FormatException or IOException) { throw new UserErrorException(e.Message); }
    }

    /// <summary>
    /// The text encoder of a model (<see cref="TokenizerTextEncoder"/>): prompts with the tokenizer's special tokens
    /// (e.g. a BOS); completions the same for T5 (its tokenizer ends them with &lt;/s&gt;), or without special tokens
    /// and ending in the model's EOS for a decoder-only model (TRL's batching); conversations rendered with
    /// <paramref name="chatTemplate"/> (none: conversational rows are refused).
    /// </summary>
    public static ITextEncoder? Encoder(Tokenizer? tokenizer, SpecialTokens tokens,
        Text.Templates.ChatTemplate? chatTemplate = null, IReadOnlyDictionary<string, object?>? chatTemplateKwargs = null) =>
        tokenizer is null ? null : new TokenizerTextEncoder(tokenizer, tokens, chatTemplate, chatTemplateKwargs);

    private static int[] EncodeCompletion(Tokenizer tokenizer, SpecialTokens tokens, string text) =>
        tokens.AppendEosToCompletion ? [.. tokenizer.EncodeIds(text, addSpecialTokens: false), tokens.EosId] : tokenizer.EncodeIds(text, addSpecialTokens: true);

    /// <summary>Ids of a prompt or completion (encoded as <see cref="Encoder"/> does) or ids used verbatim.</summary>
    public static int[] Ids(TextOrIds value, Tokenizer? tokenizer, SpecialTokens tokens, bool completion, string file, int line, string field)
    {
        if (value.HasIds) return value.Ids!;
        if (tokenizer is null) throw new UserErrorException($"{file}:{line}: field '{field}' is text but the model directory has no tokenizer.json; give '{field}_ids' instead");
        return completion ? EncodeCompletion(tokenizer, tokens, value.Text!) : tokenizer.EncodeIds(value.Text!, addSpecialTokens: true);
    }
}
