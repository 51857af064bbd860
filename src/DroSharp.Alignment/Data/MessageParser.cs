using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Conversational fields in TRL's forms (trl/data_utils.py): a <c>prompt</c> that is a list of
/// <c>{"role", "content"}</c> messages followed by a <c>completion</c> (or <c>chosen</c>/<c>rejected</c>) that is a list
/// of messages or a string (taken as one assistant message); a <c>messages</c> column holding a whole conversation,
/// whose last assistant message becomes the completion; <c>chosen</c>/<c>rejected</c> conversations without a prompt,
/// whose shared leading messages become the prompt (TRL's <c>extract_prompt</c>); and the per-row
/// <c>chat_template_kwargs</c> and <c>tools</c>. Every failure names the row's line and the column.
/// </summary>
internal static class MessageParser
{
    /// <summary>Roles a prompt may end with: TRL adds the generation prompt after user/tool and continues an assistant message.</summary>
    private static readonly string[] PromptEndRoles = ["user", "tool", "assistant"];

    /// <summary>A lone message object where a list is expected: a conversation is always a list.</summary>
    public static DataFormatException LoneMessage(RawRecord r, string column) =>
        r.Error(column, DataErrorKind.ConversationalFormat, "is a single message object; a conversation is a list of messages: [{\"role\": …, \"content\": …}]");

    /// <summary>A prompt given as messages: at least one, well formed, ending with a user, tool or assistant message.</summary>
    public static TextOrIds Prompt(RawRecord r, string column, JsonElement messages)
    {
        CheckMessages(r, column, messages);
        if (messages.GetArrayLength() == 0) throw r.Error(column, DataErrorKind.EmptyPrompt, "no messages: a prompt needs at least one");
        CheckPromptEnd(r, column, messages, messages.GetArrayLength());
        return TextOrIds.FromMessages(messages);
    }

    /// <summary>A response given as messages: at least one, well formed, not only empty text.</summary>
    public static TextOrIds Response(RawRecord r, string column, JsonElement messages)
    {
        CheckMessages(r, column, messages);
        if (messages.GetArrayLength() == 0) throw r.Error(column, DataErrorKind.EmptyCompletion, "no messages: a response needs at least one");
        if (OnlyBlankText(messages)) throw r.Error(column, DataErrorKind.EmptyCompletion, "empty: the response's messages have no text");
        return TextOrIds.FromMessages(messages);
    }

    /// <summary>A response given as a string after a conversational prompt: one assistant message (TRL requires lists; a DroSharp convenience).</summary>
    public static TextOrIds AssistantMessage(string text) =>
        TextOrIds.FromMessages(Build(w =>
        {
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
            w.WriteEndArray();
        }));

    /// <summary>
    /// A <c>messages</c> row: the conversation up to its last assistant message is the prompt, that message the
    /// completion (so prompt ⧺ completion renders as the whole conversation); nothing may follow it.
    /// </summary>
    public static (TextOrIds Prompt, TextOrIds Completion) ReadMessagesColumn(RawRecord r)
    {
        const string column = Columns.Messages;
        foreach (var other in new[] { Columns.Prompt, Columns.Ids(Columns.Prompt), Columns.Completion, Columns.Ids(Columns.Completion) })
            if (r.Has(other))
                throw r.Error(other, DataErrorKind.InconsistentColumns, $"give either '{column}' (a whole conversation) or '{Columns.Prompt}' and '{Columns.Completion}', not both");
        var messages = RequireJson(r, column, "a list of messages");
        if (messages.ValueKind == JsonValueKind.Object) throw LoneMessage(r, column);
        CheckMessages(r, column, messages);
        var list = messages.EnumerateArray().ToList();
        int last = list.FindLastIndex(m => m.GetProperty("role").GetString() == "assistant");
        if (list.Count == 0) throw r.Error(column, DataErrorKind.MalformedMessages, "no messages");
        if (last < 0) throw r.Error(column, DataErrorKind.MalformedMessages, "no assistant message: the conversation's last assistant message is the completion to learn");
        if (last < list.Count - 1)
            throw r.Error(column, DataErrorKind.MalformedMessages,
                $"message [{last + 1}] (\"{list[last + 1].GetProperty("role").GetString()}\") follows the last assistant message; the conversation must end with the assistant's reply");
        if (last == 0) throw r.Error(column, DataErrorKind.MalformedMessages, "the assistant's reply is the first message; it needs at least one message before it");
        var prompt = Array(list.Take(last));
        CheckPromptEnd(r, column, prompt, last);
        var completion = Array(list.Skip(last));
        if (OnlyBlankText(completion)) throw r.Error(column, DataErrorKind.EmptyCompletion, "empty: the last assistant message has no text");
        return (TextOrIds.FromMessages(prompt), TextOrIds.FromMessages(completion));
    }

    /// <summary>
    /// A conversational pair without a prompt column: TRL's <c>extract_prompt</c> takes the messages chosen and
    /// rejected share from the start as the prompt. Null when <c>chosen</c> is not a list of messages (then the
    /// row is a plain pair and its missing prompt is reported as such).
    /// </summary>
    public static PreferencePair? ReadImplicitPromptPair(RawRecord r)
    {
        if (!r.Has(Columns.Chosen) || !r.Has(Columns.Rejected) || r.Has(Columns.Ids(Columns.Chosen)) || r.Has(Columns.Ids(Columns.Rejected))) return null;
        if (TryJson(r, Columns.Chosen) is not { } chosen || !LooksLikeMessages(chosen)) return null;
        if (chosen.ValueKind == JsonValueKind.Object) throw LoneMessage(r, Columns.Chosen);
        CheckMessages(r, Columns.Chosen, chosen);
        var rejected = RequireJson(r, Columns.Rejected, "a list of messages");
        if (rejected.ValueKind == JsonValueKind.Object) throw LoneMessage(r, Columns.Rejected);
        if (rejected.ValueKind != JsonValueKind.Array)
            throw r.Error(Columns.Rejected, DataErrorKind.ConversationalFormat, "is not a list of messages but 'chosen' is; give both as messages or both as text");
        CheckMessages(r, Columns.Rejected, rejected);
        var c = chosen.EnumerateArray().ToList();
        var j = rejected.EnumerateArray().ToList();
        int n = Math.Min(c.Count, j.Count);
        if (n == 0) throw r.Error(c.Count == 0 ? Columns.Chosen : Columns.Rejected, DataErrorKind.EmptyCompletion, "no messages");
        // Python's loop variable: without a difference it stays at the last index compared (n − 1).
        int idx = n - 1;
        for (int i = 0; i < n; i++)
            if (!JsonElement.DeepEquals(c[i], j[i])) { idx = i; break; }
        if (idx == 0)
            throw r.Error(Columns.Prompt, DataErrorKind.MissingField,
                "missing, and 'chosen' and 'rejected' share no leading messages to take as the prompt (TRL's implicit prompt); give 'prompt'");
        var prompt = Array(c.Take(idx));
        CheckPromptEnd(r, Columns.Chosen, prompt, idx);
        var chosenReply = Array(c.Skip(idx));
        var rejectedReply = Array(j.Skip(idx));
        if (OnlyBlankText(chosenReply)) throw r.Error(Columns.Chosen, DataErrorKind.EmptyCompletion, "empty: the reply after the shared messages has no text");
        if (OnlyBlankText(rejectedReply)) throw r.Error(Columns.Rejected, DataErrorKind.EmptyCompletion, "empty: the reply after the shared messages has no text");
        return new PreferencePair(TextOrIds.FromMessages(prompt), TextOrIds.FromMessages(chosenReply), TextOrIds.FromMessages(rejectedReply), r.Line,
            ReadChatOptions(r, Columns.Chosen));
    }

    /// <summary>The row's <c>chat_template_kwargs</c> (an object) and <c>tools</c> (a list, or JSON text of one); absent, null or an empty cell: none.</summary>
    public static ChatRowOptions ReadChatOptions(RawRecord r, string messagesColumn)
    {
        JsonElement? kwargs = null, tools = null;
        if (TryJson(r, Columns.ChatTemplateKwargs) is { } k)
        {
            if (k.ValueKind != JsonValueKind.Object)
                throw r.Error(Columns.ChatTemplateKwargs, DataErrorKind.WrongType, $"expected an object of template variables, e.g. {{\"enable_thinking\": false}}, got {Kind(k)}");
            CheckStrings(r, Columns.ChatTemplateKwargs, k);
            kwargs = k;
        }
        if (TryJson(r, Columns.Tools) is { } t)
        {
            if (t.ValueKind == JsonValueKind.String)
            {
                try
                {
                    using var doc = JsonDocument.Parse(t.GetString()!);
                    t = doc.RootElement.Clone();
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                    throw r.Error(Columns.Tools, DataErrorKind.WrongType, "is a string but not JSON text of a list of tool schemas");
                }
            }
            if (t.ValueKind != JsonValueKind.Array) throw r.Error(Columns.Tools, DataErrorKind.WrongType, $"expected a list of tool schemas, got {Kind(t)}");
            CheckStrings(r, Columns.Tools, t);
            if (t.GetArrayLength() > 0) tools = t;
        }
        return new ChatRowOptions(kwargs, tools, messagesColumn);
    }

    /// <summary>TRL's test for a conversational value: a list whose first element is an object with a "role" (or any element with role/content).</summary>
    public static bool LooksLikeMessages(JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Object) return IsMessageLike(v);
        if (v.ValueKind != JsonValueKind.Array) return false;
        foreach (var e in v.EnumerateArray())
            if (IsMessageLike(e)) return true;
        return false;

        static bool IsMessageLike(JsonElement e) =>
            e.ValueKind == JsonValueKind.Object && (e.TryGetProperty("role", out _) || e.TryGetProperty("content", out _));
    }

    /// <summary>Every element an object with a string "role"; "content", when present, a string, a list of content parts or null; no bad strings.</summary>
    private static void CheckMessages(RawRecord r, string column, JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw r.Error(column, DataErrorKind.MalformedMessages, $"expected a list of messages, got {Kind(messages)}");
        int i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object)
                throw r.Error(column, DataErrorKind.MalformedMessages, $"message [{i}] is {Kind(m)}; expected an object {{\"role\": …, \"content\": …}}");
            if (!m.TryGetProperty("role", out var role))
                throw r.Error(column, DataErrorKind.MalformedMessages, $"message [{i}] has no \"role\"");
            if (role.ValueKind != JsonValueKind.String)
                throw r.Error(column, DataErrorKind.MalformedMessages, $"message [{i}]: \"role\" must be a string, got {Kind(role)}");
            if (m.TryGetProperty("content", out var content)
                && content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null))
                throw r.Error(column, DataErrorKind.MalformedMessages, $"message [{i}]: \"content\" must be a string, a list of content parts or null, got {Kind(content)}");
            CheckStrings(r, column, m, i);
            i++;
        }
    }

    /// <summary>No bare NaN/Infinity (marked by the reader) and no unpaired surrogate escapes anywhere in the value.</summary>
    private static void CheckStrings(RawRecord r, string column, JsonElement v, int? message = null)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                string s;
                try { s = v.GetString()!; }
                catch (InvalidOperationException)
                {
                    throw r.Error(column, DataErrorKind.InvalidUtf8, $"{At(message)}a string holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)");
                }
                if (NonFiniteLiterals.Unmark(s) is string literal)
                    throw r.Error(column, DataErrorKind.WrongType, $"{At(message)}the bare literal {literal} is not JSON");
                break;
            case JsonValueKind.Array:
                foreach (var e in v.EnumerateArray()) CheckStrings(r, column, e, message);
                break;
            case JsonValueKind.Object:
                foreach (var p in v.EnumerateObject()) CheckStrings(r, column, p.Value, message);
                break;
        }

        static string At(int? message) => message is int m ? $"message [{m}]: " : "";
    }

    private static void CheckPromptEnd(RawRecord r, string column, JsonElement prompt, int count)
    {
        string role = prompt[count - 1].GetProperty("role").GetString()!;
        if (System.Array.IndexOf(PromptEndRoles, role) < 0)
            throw r.Error(column, DataErrorKind.MalformedMessages,
                $"the prompt's last message is from \"{role}\"; it must be from user or tool (the chat template then adds the generation prompt) or assistant (continued)");
    }

    /// <summary>True when every message's content is a blank string (or absent/null) and no message carries anything else (e.g. tool_calls).</summary>
    private static bool OnlyBlankText(JsonElement messages)
    {
        foreach (var m in messages.EnumerateArray())
            foreach (var p in m.EnumerateObject())
            {
                if (p.Name == "role") continue;
                if (p.Name != "content") return false;
                if (p.Value.ValueKind == JsonValueKind.Null) continue;
                if (p.Value.ValueKind != JsonValueKind.String || !string.IsNullOrWhiteSpace(p.Value.GetString())) return false;
            }
        return true;
    }

    /// <summary>The column as JSON: a JSON row's value, or a CSV cell parsed as JSON; null when absent, JSON null or an empty cell.</summary>
    private static JsonElement? TryJson(RawRecord r, string column)
    {
        if (!r.Has(column)) return null;
        if (r is CsvRawRecord csv)
        {
            string cell = csv.Get(column).Trim();
            if (cell.Length == 0) return null;
            try
            {
                using var doc = JsonDocument.Parse(cell);
                return doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                throw r.Error(column, DataErrorKind.WrongType, "expected JSON in the cell");
            }
        }
        var v = ((JsonRawRecord)r).Get(column);
        return v.ValueKind == JsonValueKind.Null ? null : v.Clone();
    }

    private static JsonElement RequireJson(RawRecord r, string column, string expected) =>
        TryJson(r, column) ?? throw r.Error(column, DataErrorKind.MissingField, r.Has(column) ? $"is empty; expected {expected}" : $"missing; expected {expected}");

    private static JsonElement Array(IEnumerable<JsonElement> elements) => Build(w =>
    {
        w.WriteStartArray();
        foreach (var e in elements) e.WriteTo(w);
        w.WriteEndArray();
    });

    private static JsonElement Build(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream)) write(w);
        using var doc = JsonDocument.Parse(stream.ToArray());
        return doc.RootElement.Clone();
    }

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString(),
    };
}
