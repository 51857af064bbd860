using System.Text.Json;

namespace DroSharp.Text.Templates;

/// <summary>
/// TRL's conversational rows rendered with a chat template (trl/data_utils.py <c>apply_chat_template</c>):
/// <list type="bullet">
/// <item><c>messages</c>: the whole conversation, <c>add_generation_prompt=False</c>.</item>
/// <item><c>prompt</c>: rendered with <c>add_generation_prompt=True</c> when its last message is from "user" or
/// "tool", with <c>continue_final_message=True</c> when it is from "assistant" (another role is an error).</item>
/// <item><c>prompt</c> + <c>completion</c>/<c>chosen</c>/<c>rejected</c>: each whole conversation rendered without a
/// generation prompt; the prompt text becomes the longest common prefix of the prompt's rendering and each whole
/// rendering, and each completion the rest of its whole rendering, so prompt ⧺ completion is exactly the whole.</item>
/// <item><c>chosen</c>/<c>rejected</c> without <c>prompt</c>: each rendered whole.</item>
/// </list>
/// A row's <c>chat_template_kwargs</c> (object) become extra template variables and its <c>tools</c> (list, or JSON
/// text of one) the tools; a <c>completion</c>/<c>chosen</c>/<c>rejected</c> given as a plain string next to a
/// conversational prompt is taken as one assistant message (a DroSharp convenience; TRL requires lists).
/// </summary>
public sealed class ConversationRenderer
{
    private static readonly string[] SupportedKeys = ["prompt", "chosen", "rejected", "completion", "messages", "label"];

    private readonly ChatTemplate _template;
    private readonly IReadOnlyDictionary<string, object?>? _templateKwargs;
    private readonly IReadOnlyList<object?>? _tools;

    /// <param name="template">The model's chat template.</param>
    /// <param name="templateKwargs">Extra template variables for every row (e.g. Qwen3's <c>enable_thinking</c>).</param>
    /// <param name="tools">Tool schemas for every row without its own <c>tools</c> (TRL passes <c>tools or None</c>).</param>
    /// <param name="requirePromptPrefix">
    /// Refuse rows whose prompt rendering is not a prefix of the whole rendering (TRL silently keeps the common
    /// prefix instead; see <see cref="ConversationText.PromptCharsDropped"/>).
    /// </param>
    public ConversationRenderer(ChatTemplate template, IReadOnlyDictionary<string, object?>? templateKwargs = null,
        IReadOnlyList<object?>? tools = null, bool requirePromptPrefix = false)
    {
        _template = template ?? throw new ArgumentNullException(nameof(template));
        _templateKwargs = templateKwargs;
        _tools = tools is { Count: 0 } ? null : tools;
        RequirePromptPrefix = requirePromptPrefix;
    }

    public bool RequirePromptPrefix { get; }

    /// <summary>
    /// TRL's <c>is_conversational</c>: the row has one of prompt/chosen/rejected/completion/messages holding a
    /// non-empty list whose first element is an object with a "role".
    /// </summary>
    public static bool IsConversational(JsonElement row)
    {
        if (row.ValueKind != JsonValueKind.Object) return false;
        foreach (var key in new[] { "prompt", "chosen", "rejected", "completion", "messages" })
        {
            if (!row.TryGetProperty(key, out var v)) continue;
            return v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0
                && v[0].ValueKind == JsonValueKind.Object && v[0].TryGetProperty("role", out _);
        }
        return false;
    }

    /// <summary>Renders one conversational row; <paramref name="rowLabel"/> (e.g. "rows.jsonl line 12") prefixes error messages.</summary>
    /// <exception cref="FormatException">The row's keys or messages are not a TRL conversational form, or (with <see cref="RequirePromptPrefix"/>) the prompt is not a prefix.</exception>
    /// <exception cref="ChatTemplateException">The template failed or raised (the message is the template's own for raise_exception).</exception>
    public ConversationText Render(JsonElement row, string rowLabel = "row")
    {
        if (row.ValueKind != JsonValueKind.Object) throw new FormatException($"{rowLabel}: expected a JSON object");
        var keys = SupportedKeys.Where(k => row.TryGetProperty(k, out _)).ToHashSet();
        bool Is(params string[] set) => keys.SetEquals(set);
        if (!(Is("messages") || Is("prompt") || Is("prompt", "completion") || Is("prompt", "chosen", "rejected")
              || Is("chosen", "rejected") || Is("prompt", "completion", "label")))
            throw new FormatException($"{rowLabel}: invalid keys for a conversational row: {{{string.Join(", ", keys.Order(StringComparer.Ordinal))}}} " +
                "(expected messages; prompt; prompt+completion; prompt+chosen+rejected; chosen+rejected; or prompt+completion+label)");

        var extra = new Dictionary<string, object?>();
        if (_templateKwargs != null)
            foreach (var (k, v) in _templateKwargs) extra[k] = v;
        if (row.TryGetProperty("chat_template_kwargs", out var kw) && kw.ValueKind != JsonValueKind.Null)
        {
            if (kw.ValueKind != JsonValueKind.Object) throw new FormatException($"{rowLabel}: chat_template_kwargs must be an object");
            foreach (var p in kw.EnumerateObject()) extra[p.Name] = p.Value.Clone();
        }
        var tools = RowTools(row, rowLabel) ?? _tools;

        string Apply(List<ChatMessage> messages, bool addGenerationPrompt, bool continueFinal) =>
            _template.Render(messages, addGenerationPrompt, extra, continueFinal, tools);

        if (keys.Contains("messages"))
            return new ConversationText(null, null, null, null, Apply(Messages(row, "messages", rowLabel, null), false, false), 0);

        if (!keys.Contains("prompt"))
        {
            string c = Apply(Messages(row, "chosen", rowLabel, null), false, false);
            string r = Apply(Messages(row, "rejected", rowLabel, null), false, false);
            return new ConversationText(null, null, c, r, null, 0);
        }

        var prompt = Messages(row, "prompt", rowLabel, null);
        if (prompt.Count == 0) throw new FormatException($"{rowLabel}: \"prompt\" has no messages");
        string lastRole = prompt[^1].Role;
        bool agp, cont;
        if (lastRole is "user" or "tool") (agp, cont) = (true, false);
        else if (lastRole == "assistant") (agp, cont) = (false, true);
        else throw new FormatException($"{rowLabel}: invalid role in the last prompt message: \"{lastRole}\" (TRL accepts user, tool or assistant)");
        string promptText = Apply(prompt, agp, cont);
        string ownPrompt = promptText;

        string? Whole(string key)
        {
            if (!keys.Contains(key)) return null;
            var all = new List<ChatMessage>(prompt);
            all.AddRange(Messages(row, key, rowLabel, "assistant"));
            string whole = Apply(all, false, false);
            if (RequirePromptPrefix && !whole.StartsWith(ownPrompt, StringComparison.Ordinal))
            {
                int at = CommonPrefixLength(ownPrompt, whole);
                throw new FormatException($"{rowLabel}: the rendered prompt is not a prefix of the rendered prompt+{key} " +
                    $"(they differ at character {at}: prompt has {Snippet(ownPrompt, at)}, the whole conversation {Snippet(whole, at)})");
            }
            promptText = promptText[..CommonPrefixLength(promptText, whole)];
            return whole;
        }

        string? chosenWhole = Whole("chosen");
        string? rejectedWhole = Whole("rejected");
        string? completionWhole = Whole("completion");
        return new ConversationText(
            promptText,
            completionWhole?[promptText.Length..],
            chosenWhole?[promptText.Length..],
            rejectedWhole?[promptText.Length..],
            null,
            ownPrompt.Length - promptText.Length);
    }

    /// <summary>Length of the common prefix, never ending inside a surrogate pair (Python compares code points).</summary>
    private static int CommonPrefixLength(string a, string b)
    {
        int n = 0, max = Math.Min(a.Length, b.Length);
        while (n < max && a[n] == b[n]) n++;
        if (n > 0 && char.IsHighSurrogate(a[n - 1]) && n < a.Length && char.IsLowSurrogate(a[n])
            && !(n < b.Length && a[n] == b[n])) n--;
        return n;
    }

    private static string Snippet(string s, int at) =>
        at >= s.Length ? "the end" : JsonSerializer.Serialize(s.Substring(at, Math.Min(20, s.Length - at)));

    private static List<ChatMessage> Messages(JsonElement row, string key, string rowLabel, string? stringRole)
    {
        var v = row.GetProperty(key);
        if (v.ValueKind == JsonValueKind.String && stringRole != null)
            return [new ChatMessage(stringRole, v.GetString())];
        if (v.ValueKind != JsonValueKind.Array)
            throw new FormatException($"{rowLabel}: \"{key}\" must be a list of messages, not {v.ValueKind}");
        try
        {
            return ChatMessage.ListFromJson(v).ToList();
        }
        catch (FormatException e)
        {
            throw new FormatException($"{rowLabel}: \"{key}\" {e.Message}", e);
        }
    }

    private static IReadOnlyList<object?>? RowTools(JsonElement row, string rowLabel)
    {
        if (!row.TryGetProperty("tools", out var t) || t.ValueKind == JsonValueKind.Null) return null;
        if (t.ValueKind == JsonValueKind.String)
        {
            try
            {
                using var doc = JsonDocument.Parse(t.GetString()!);
                t = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new FormatException($"{rowLabel}: \"tools\" is a string but not JSON ({e.Message})", e);
            }
        }
        if (t.ValueKind != JsonValueKind.Array) throw new FormatException($"{rowLabel}: \"tools\" must be a list");
        var list = t.EnumerateArray().Select(x => (object?)x.Clone()).ToList();
        return list.Count == 0 ? null : list;
    }
}
