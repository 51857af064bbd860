using DroSharp.Alignment.Data;
using DroSharp.Models;
using DroSharp.Text;
using DroSharp.Text.Templates;
using DroSharp.Text.Training;

namespace DroSharp.Alignment.Tests.Data;

/// <summary>
/// A small byte-level BPE tokenizer with chat special tokens and a ChatML-like template that writes a BOS, so
/// tests can check conversational encoding against an independent rendering and tokenisation.
/// </summary>
internal static class ChatFixture
{
    public const string Template =
        "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content | upper if shout else m.content }}<|im_end|>{% endfor %}" +
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    public static readonly Tokenizer Tokenizer = TokenizerTrainer.TrainByteLevelBpe(
        ["What colour is the sky?", "It is blue.", "It is green.", "system user assistant", "Be brief."], 320, 1, ["<s>", "<|im_start|>", "<|im_end|>"]);

    public static int Bos => Tokenizer.TokenToId("<s>")!.Value;

    public static int ImEnd => Tokenizer.TokenToId("<|im_end|>")!.Value;

    public static readonly SpecialTokens Tokens = new(0, ImEnd, [ImEnd], Bos, AppendEosToCompletion: true);

    public static ChatTemplate ChatTemplate(string source = Template) =>
        new(source, new Dictionary<string, object?> { ["bos_token"] = "<s>", ["eos_token"] = "<|im_end|>" });

    public static TokenizerTextEncoder Encoder(string source = Template, IReadOnlyDictionary<string, object?>? kwargs = null) =>
        new(Tokenizer, Tokens, ChatTemplate(source), kwargs);

    public static ChatMessage Message(string role, string content) => new(role, content);

    /// <summary>The independent reference: render the whole conversation, tokenise it without added special tokens.</summary>
    public static int[] WholeIds(IReadOnlyList<ChatMessage> conversation, IReadOnlyDictionary<string, object?>? kwargs = null, string source = Template) =>
        Tokenizer.EncodeIds(ChatTemplate(source).Render(conversation, addGenerationPrompt: false, kwargs), addSpecialTokens: false);
}
