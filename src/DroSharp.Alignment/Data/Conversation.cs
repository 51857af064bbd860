using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// A conversational row to render with the model's chat template and encode: the prompt's messages, zero
/// responses (a generation prompt, e.g. for <c>dro generate</c>), one (a completion) or two (chosen, then
/// rejected), each a list of messages, and the row's extra template variables and tools. All JSON arrays of
/// <c>{"role", "content", …}</c> objects, as <see cref="TextOrIds.Messages"/> holds them.
/// </summary>
public sealed record Conversation(JsonElement Prompt, IReadOnlyList<JsonElement> Responses, JsonElement? TemplateKwargs = null, JsonElement? Tools = null)
{
    /// <summary>The conversation of a row: its prompt and response(s) must be messages.</summary>
    public static Conversation Of(TextOrIds prompt, IReadOnlyList<TextOrIds> responses, ChatRowOptions? chat)
    {
        if (prompt.Messages is not JsonElement p) throw new ArgumentException("the prompt is not a list of chat messages", nameof(prompt));
        var rs = new JsonElement[responses.Count];
        for (int i = 0; i < rs.Length; i++)
            rs[i] = responses[i].Messages ?? throw new ArgumentException("a response is not a list of chat messages", nameof(responses));
        return new Conversation(p, rs, chat?.TemplateKwargs, chat?.Tools);
    }
}
