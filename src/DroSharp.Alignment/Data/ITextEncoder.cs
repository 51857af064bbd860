namespace DroSharp.Alignment.Data;

/// <summary>
/// Turns prompt and completion text into the token ids the model consumes, with the model's
/// conventions for special tokens: T5's tokenizer ends both with <c>&lt;/s&gt;</c>; a decoder-only
/// model's prompt gets the BOS its tokenizer adds and its completion ends with EOS (TRL's batching).
/// The tokenizer lives elsewhere; anything with this shape plugs in.
/// </summary>
public interface ITextEncoder
{
    int[] EncodePrompt(string text);

    int[] EncodeCompletion(string text);

    /// <summary>One encoding for prompts and completions alike, e.g. <c>ITextEncoder.From(tokenizer.Encode)</c>.</summary>
    static ITextEncoder From(Func<string, int[]> encode) => new DelegateTextEncoder(encode, encode);

    /// <summary>Separate encodings for prompts and completions.</summary>
    static ITextEncoder From(Func<string, int[]> encodePrompt, Func<string, int[]> encodeCompletion) =>
        new DelegateTextEncoder(encodePrompt, encodeCompletion);
}

internal sealed class DelegateTextEncoder(Func<string, int[]> encodePrompt, Func<string, int[]> encodeCompletion) : ITextEncoder
{
    private readonly Func<string, int[]> _prompt = encodePrompt ?? throw new ArgumentNullException(nameof(encodePrompt));
    private readonly Func<string, int[]> _completion = encodeCompletion ?? throw new ArgumentNullException(nameof(encodeCompletion));

    public int[] EncodePrompt(string text) => _prompt(text);

    public int[] EncodeCompletion(string text) => _completion(text);
}
