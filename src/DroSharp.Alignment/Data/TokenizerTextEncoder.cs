using System.Text.Json;
using DroSharp.Models;
using DroSharp.Text;
using DroSharp.Text.Templates;

namespace DroSharp.Alignment.Data;

/// <summary>
/// The text encoder of a model directory. Plain text: a prompt with the tokenizer's special tokens (e.g. a BOS);
/// a completion the same for T5 (its tokenizer ends it with &lt;/s&gt;), or without special tokens and ending in
/// the model's EOS for a decoder-only model (TRL's batching). Conversations: rendered with
/// <paramref name="chatTemplate"/> by <see cref="ConversationRenderer"/> (TRL's <c>maybe_apply_chat_template</c>)
/// and tokenised with <c>add_special_tokens=False</c>, nothing added: the template writes BOS, end-of-turn and EOS
/// tokens itself. T5 (an encoder-decoder, whose tokenizer appends &lt;/s&gt;) refuses conversations.
/// </summary>
public sealed class TokenizerTextEncoder : ITextEncoder
{
    private readonly SpecialTokens _tokens;
    private readonly ConversationRenderer? _renderer;

    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="tokens">The model's special ids and conventions.</param>
    /// <param name="chatTemplate">The chat template, or null when the model has none (conversations are then refused).</param>
    /// <param name="chatTemplateKwargs">Extra template variables for every row (a row's own <c>chat_template_kwargs</c> override them).</param>
    public TokenizerTextEncoder(Tokenizer tokenizer, SpecialTokens tokens, ChatTemplate? chatTemplate = null,
        IReadOnlyDictionary<string, object?>? chatTemplateKwargs = null)
    {
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        ChatTemplate = chatTemplate;
        if (chatTemplate is not null) _renderer = new ConversationRenderer(chatTemplate, chatTemplateKwargs);
    }

    public Tokenizer Tokenizer { get; }

    public ChatTemplate? ChatTemplate { get; }

    public int[] EncodePrompt(string text) => Tokenizer.EncodeIds(text, addSpecialTokens: true);

    public int[] EncodeCompletion(string text) =>
        _tokens.AppendEosToCompletion ? [.. Tokenizer.EncodeIds(text, addSpecialTokens: false), _tokens.EosId] : Tokenizer.EncodeIds(text, addSpecialTokens: true);

    public string? ConversationsUnsupportedReason =>
        !_tokens.AppendEosToCompletion
            ? "conversational rows need a decoder-only model with a chat template; T5 (an encoder-decoder) takes plain prompt and completion text"
            : _renderer is null
                ? "the model has no chat template (tokenizer_config.json's chat_template, or chat_template.jinja); give one with --chat-template FILE"
                : null;

    public EncodedConversation EncodeConversation(Conversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        if (ConversationsUnsupportedReason is string why) throw new NotSupportedException(why);
        if (conversation.Responses.Count > 2) throw new ArgumentException("a conversation has at most two responses (chosen, rejected)", nameof(conversation));
        const string label = "row";
        ConversationText text;
        try
        {
            text = _renderer!.Render(RendererRow(conversation), label);
        }
        catch (FormatException e) when (e.Message.StartsWith(label + ": ", StringComparison.Ordinal))
        {
            throw new FormatException(e.Message[(label.Length + 2)..], e);
        }
        string prompt = text.Prompt!;
        string[] responses = conversation.Responses.Count switch
        {
            0 => [],
            1 => [text.Completion!],
            _ => [text.Chosen!, text.Rejected!],
        };
        int[] promptIds = Encode(prompt);
        var responseIds = new int[responses.Length][];
        bool matches = true;
        for (int i = 0; i < responses.Length; i++)
        {
            responseIds[i] = Encode(responses[i]);
            matches &= Encode(prompt + responses[i]).AsSpan().SequenceEqual([.. promptIds, .. responseIds[i]]);
        }
        return new EncodedConversation(prompt, promptIds, responses, responseIds, text.PromptCharsDropped, matches);
    }

    /// <summary>Rendered chat text: its special tokens are in the text, so the tokenizer adds none (TRL: add_special_tokens=False).</summary>
    private int[] Encode(string text) => Tokenizer.EncodeIds(text, addSpecialTokens: false);

    /// <summary>The row in the keys <see cref="ConversationRenderer"/> reads: prompt, completion or chosen/rejected, chat_template_kwargs, tools.</summary>
    private static JsonElement RendererRow(Conversation c)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WritePropertyName("prompt");
            c.Prompt.WriteTo(w);
            string[] names = c.Responses.Count == 1 ? ["completion"] : ["chosen", "rejected"];
            for (int i = 0; i < c.Responses.Count; i++)
            {
                w.WritePropertyName(names[i]);
                c.Responses[i].WriteTo(w);
            }
            if (c.TemplateKwargs is JsonElement kw)
            {
                w.WritePropertyName("chat_template_kwargs");
                kw.WriteTo(w);
            }
            if (c.Tools is JsonElement tools)
            {
                w.WritePropertyName("tools");
                tools.WriteTo(w);
            }
            w.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(stream.ToArray());
        return doc.RootElement.Clone();
    }
}
