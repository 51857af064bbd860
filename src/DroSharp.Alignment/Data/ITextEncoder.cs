namespace DroSharp.Alignment.Data;

/// <summary>
/// Turns prompt and completion text into the token ids the model consumes, with the model's
/// conventions for special tokens: T5's tokenizer ends both with <c>&lt;/s&gt;</c>; a decoder-only
/// model's prompt gets the BOS its tokenizer adds and its completion ends with EOS (TRL's batching).
/// Conversational rows go through <see cref="EncodeConversation"/>: the model's chat template renders them and
/// writes the special tokens itself. The tokenizer lives elsewhere; anything with this shape plugs in
/// (<see cref="TokenizerTextEncoder"/> is the one the CLI uses).
/// </summary>
public interface ITextEncoder
{
    int[] EncodePrompt(string text);

    int[] EncodeCompletion(string text);

    /// <summary>
    /// Why this encoder cannot encode conversational rows (e.g. the model has no chat template), or null when it
    /// can. Checked before <see cref="EncodeConversation"/> so the data loader can name the first such row.
    /// </summary>
    string? ConversationsUnsupportedReason => "no chat template was given to render conversational rows";

    /// <summary>
    /// Renders <paramref name="conversation"/> with the chat template as TRL does and tokenises the pieces without
    /// adding special tokens, so prompt ids ⧺ response ids are the tokens of the whole rendered conversation.
    /// </summary>
    /// <exception cref="NotSupportedException">When <see cref="ConversationsUnsupportedReason"/> is not null.</exception>
    /// <exception cref="FormatException">The messages are not a form TRL renders (e.g. the prompt ends with a system message).</exception>
    /// <exception cref="Text.Templates.ChatTemplateException">The template failed on the messages or raised.</exception>
    EncodedConversation EncodeConversation(Conversation conversation) =>
        throw new NotSupportedException(ConversationsUnsupportedReason ?? "this encoder does not encode conversational rows");

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
