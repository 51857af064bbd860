using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// What a conversational row gives its chat template besides the messages, in TRL's columns:
/// <c>chat_template_kwargs</c> (a JSON object of extra template variables, e.g. <c>{"enable_thinking": false}</c>)
/// and <c>tools</c> (a JSON array of tool schemas). <see cref="MessagesColumn"/> is the column the conversation
/// came from (<c>prompt</c>, <c>messages</c>, or <c>chosen</c> for a prompt extracted from a pair), so errors
/// found while rendering name it.
/// </summary>
public sealed record ChatRowOptions(JsonElement? TemplateKwargs, JsonElement? Tools, string MessagesColumn)
{
    /// <summary>A conversational row without extra variables or tools.</summary>
    public static ChatRowOptions For(string messagesColumn) => new(null, null, messagesColumn);
}
