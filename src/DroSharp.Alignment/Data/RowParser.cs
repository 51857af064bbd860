using System.Globalization;
using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Typed fields from a <see cref="RawRecord"/>, with one rule set for JSON values and one for CSV cells
/// (where everything is text: labels "true"/"false"/"1"/"0", rewards as numbers, ids as a JSON array).
/// Every failure is a <see cref="DataFormatException"/> naming the row's line and the field.
/// </summary>
internal static class RowParser
{
    public static FeedbackExample ReadExample(RawRecord r, DatasetKind kind, int kindLine)
    {
        CheckColumnsAgree(r, kind, kindLine);
        bool whole = r.Has(Columns.Messages);
        TextOrIds prompt, completion;
        if (whole) (prompt, completion) = MessageParser.ReadMessagesColumn(r);
        else
        {
            prompt = RequireTextOrIds(r, Columns.Prompt, isResponse: false);
            completion = RequireResponse(r, Columns.Completion, prompt);
        }
        bool? label = null;
        double? reward = null;
        if (kind == DatasetKind.LabelledFeedback) label = ReadLabel(r);
        else if (kind == DatasetKind.ScoredFeedback) reward = ReadReward(r);
        var chat = prompt.IsConversational ? MessageParser.ReadChatOptions(r, whole ? Columns.Messages : Columns.Prompt) : null;
        return new FeedbackExample(prompt, completion, label, reward, r.Line, chat);
    }

    public static PreferencePair ReadPair(RawRecord r)
    {
        if (!Columns.HasEither(r, Columns.Prompt) && MessageParser.ReadImplicitPromptPair(r) is { } implicitPrompt) return implicitPrompt;
        var prompt = RequireTextOrIds(r, Columns.Prompt, isResponse: false);
        var chosen = RequireResponse(r, Columns.Chosen, prompt);
        var rejected = RequireResponse(r, Columns.Rejected, prompt);
        var chat = prompt.IsConversational ? MessageParser.ReadChatOptions(r, Columns.Prompt) : null;
        return new PreferencePair(prompt, chosen, rejected, r.Line, chat);
    }

    /// <summary>A prompts-file row (prompt or prompt_ids; a conversational prompt with its template variables and tools).</summary>
    public static PromptRow ReadPromptRow(RawRecord r)
    {
        var prompt = RequireTextOrIds(r, Columns.Prompt, isResponse: false);
        return new PromptRow(prompt, r.Line, prompt.IsConversational ? MessageParser.ReadChatOptions(r, Columns.Prompt) : null);
    }

    /// <summary>
    /// A response in the prompt's form: both plain, or both conversational — after a conversational prompt a string
    /// response is one assistant message; token ids cannot follow one (the chat template renders the reply).
    /// </summary>
    private static TextOrIds RequireResponse(RawRecord r, string column, TextOrIds prompt)
    {
        var value = RequireTextOrIds(r, column, isResponse: true);
        if (prompt.IsConversational == value.IsConversational) return value;
        if (value.IsConversational)
            throw r.Error(column, DataErrorKind.ConversationalFormat,
                "is a list of chat messages but 'prompt' is plain text; give both as messages (rendered with the model's chat template) or both as text");
        if (value.HasIds)
            throw r.Error(Columns.Ids(column), DataErrorKind.ConversationalFormat,
                "token ids cannot follow a conversational prompt (the chat template renders the reply); give the reply as text or a list of messages");
        return MessageParser.AssistantMessage(value.Text!);
    }

    /// <summary>In JSON each row names its own columns: one that belongs to another kind than the file's is an error, not noise.</summary>
    private static void CheckColumnsAgree(RawRecord r, DatasetKind kind, int kindLine)
    {
        string? foreign = null;
        if (Columns.HasEither(r, Columns.Chosen)) foreign = r.Has(Columns.Chosen) ? Columns.Chosen : Columns.Ids(Columns.Chosen);
        else if (Columns.HasEither(r, Columns.Rejected)) foreign = r.Has(Columns.Rejected) ? Columns.Rejected : Columns.Ids(Columns.Rejected);
        else if (kind == DatasetKind.LabelledFeedback && r.Has(Columns.Reward)) foreign = Columns.Reward;
        else if (kind == DatasetKind.PromptCompletion && r.Has(Columns.Reward)) foreign = Columns.Reward;
        else if (kind == DatasetKind.PromptCompletion && r.Has(Columns.Label)) foreign = Columns.Label;
        if (foreign is null) return;
        throw r.Error(foreign, DataErrorKind.InconsistentColumns,
            $"this row has '{foreign}' but line {kindLine} made the file {DatasetKindText.Describe(kind)}; every row needs the same columns");
    }

    public static TextOrIds RequireTextOrIds(RawRecord r, string column, bool isResponse)
    {
        string idsColumn = Columns.Ids(column);
        bool hasText = r.Has(column), hasIds = r.Has(idsColumn);
        if (!hasText && !hasIds)
            throw r.Error(column, DataErrorKind.MissingField, $"missing (give '{column}' as text or '{idsColumn}' as token ids)");
        var (text, messages) = hasText ? ReadText(r, column) : (null, null);
        if (messages is JsonElement m)
        {
            if (hasIds) throw r.Error(idsColumn, DataErrorKind.ConversationalFormat, $"'{column}' is a list of chat messages; give the messages or '{idsColumn}', not both");
            return isResponse ? MessageParser.Response(r, column, m) : MessageParser.Prompt(r, column, m);
        }
        int[]? ids = hasIds ? ReadIds(r, idsColumn) : null;
        if (!isResponse && ids is not null && ids.Length == 0)
            throw r.Error(idsColumn, DataErrorKind.EmptyPrompt, "empty: a prompt needs at least one token");
        if (isResponse)
        {
            if (ids is not null && ids.Length == 0)
                throw r.Error(idsColumn, DataErrorKind.EmptyCompletion, "empty: a response needs at least one token");
            if (ids is null && string.IsNullOrWhiteSpace(text))
                throw r.Error(column, DataErrorKind.EmptyCompletion, "empty: a response needs some text");
        }
        if (ids is not null) return text is null ? TextOrIds.FromIds(ids) : TextOrIds.FromBoth(text, ids);
        return TextOrIds.FromText(text!);
    }

    /// <summary>A text field, or (conversational form) a list of chat messages: in JSON the value itself, in CSV a cell holding it as JSON.</summary>
    private static (string? Text, JsonElement? Messages) ReadText(RawRecord r, string name)
    {
        if (r is CsvRawRecord csv)
        {
            string cell = csv.Get(name);
            if (ParseConversationalCell(cell) is JsonElement cellMessages)
            {
                if (cellMessages.ValueKind == JsonValueKind.Object) throw MessageParser.LoneMessage(r, name);
                return (null, cellMessages);
            }
            return (cell, null);
        }
        var v = ((JsonRawRecord)r).Get(name);
        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    string text = v.GetString()!;
                    if (NonFiniteLiterals.Unmark(text) is string literal)
                        throw r.Error(name, DataErrorKind.WrongType, $"expected a string, got the bare literal {literal}");
                    return (text, null);
                }
                catch (InvalidOperationException)
                {
                    throw r.Error(name, DataErrorKind.InvalidUtf8, "the string holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)");
                }
            case JsonValueKind.Null:
                throw r.Error(name, DataErrorKind.MissingField, "is null; expected a string");
            case JsonValueKind.Object when MessageParser.LooksLikeMessages(v):
                throw MessageParser.LoneMessage(r, name);
            case JsonValueKind.Array when MessageParser.LooksLikeMessages(v):
                return (null, v);
            default:
                throw r.Error(name, DataErrorKind.WrongType, $"expected a string, got {Describe(v)}");
        }
    }

    /// <summary>A CSV cell that is JSON of chat messages (a list, or a lone message object), else null (the cell is text).</summary>
    private static JsonElement? ParseConversationalCell(string cell)
    {
        var t = cell.AsSpan().Trim();
        if (t.Length < 2 || !((t[0] == '[' && t[^1] == ']') || (t[0] == '{' && t[^1] == '}'))) return null;
        if (!t.Contains("\"role\"", StringComparison.Ordinal) && !t.Contains("\"content\"", StringComparison.Ordinal)) return null;
        try
        {
            using var doc = JsonDocument.Parse(cell);
            return MessageParser.LooksLikeMessages(doc.RootElement) ? doc.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int[] ReadIds(RawRecord r, string name)
    {
        if (r is CsvRawRecord csv)
        {
            string cell = csv.Get(name).Trim();
            if (cell.Length == 0) throw r.Error(name, DataErrorKind.MissingField, "empty cell; expected token ids as a JSON array, e.g. [37, 5, 1]");
            try
            {
                using var doc = JsonDocument.Parse(cell);
                return IdsFromJson(r, name, doc.RootElement);
            }
            catch (JsonException)
            {
                throw r.Error(name, DataErrorKind.InvalidTokenIds, $"expected token ids as a JSON array, e.g. [37, 5, 1], got \"{Snippet(cell)}\"");
            }
        }
        return IdsFromJson(r, name, ((JsonRawRecord)r).Get(name));
    }

    private static int[] IdsFromJson(RawRecord r, string name, JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Null) throw r.Error(name, DataErrorKind.MissingField, "is null; expected an array of token ids");
        if (v.ValueKind != JsonValueKind.Array)
            throw r.Error(name, DataErrorKind.InvalidTokenIds, $"expected an array of non-negative integer token ids, got {Describe(v)}");
        var ids = new int[v.GetArrayLength()];
        int i = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long id) || id < 0 || id > int.MaxValue)
                throw r.Error(name, DataErrorKind.InvalidTokenIds,
                    $"element {i} ({Describe(e)}) is not a non-negative integer token id");
            ids[i++] = (int)id;
        }
        return ids;
    }

    public static bool ReadLabel(RawRecord r)
    {
        const string name = Columns.Label;
        if (!r.Has(name)) throw r.Error(name, DataErrorKind.MissingField, "missing; expected true/false or 1/0");
        if (r is CsvRawRecord csv)
        {
            string cell = csv.Get(name).Trim();
            if (cell.Length == 0) throw r.Error(name, DataErrorKind.MissingField, "empty cell; expected true/false or 1/0");
            return ParseLabelText(cell) ?? throw r.Error(name, DataErrorKind.WrongType, $"expected true/false or 1/0, got \"{Snippet(cell)}\"");
        }
        var v = ((JsonRawRecord)r).Get(name);
        switch (v.ValueKind)
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Null: throw r.Error(name, DataErrorKind.MissingField, "is null; expected true or false");
            case JsonValueKind.Number when v.TryGetDouble(out double d) && (d == 0 || d == 1): return d == 1;
            case JsonValueKind.String when ParseLabelText(v.GetString()!.Trim()) is bool b: return b;
            default: throw r.Error(name, DataErrorKind.WrongType, $"expected true/false or 1/0, got {Describe(v)}");
        }
    }

    private static bool? ParseLabelText(string s) =>
        s.Equals("true", StringComparison.OrdinalIgnoreCase) || s == "1" ? true
        : s.Equals("false", StringComparison.OrdinalIgnoreCase) || s == "0" ? false
        : null;

    public static double ReadReward(RawRecord r)
    {
        const string name = Columns.Reward;
        if (!r.Has(name)) throw r.Error(name, DataErrorKind.MissingField, "missing; expected a number");
        if (r is CsvRawRecord csv)
        {
            string cell = csv.Get(name).Trim();
            if (cell.Length == 0) throw r.Error(name, DataErrorKind.MissingField, "empty cell; expected a number");
            return ParseRewardText(r, cell) ?? throw r.Error(name, DataErrorKind.WrongType, $"expected a number, got \"{Snippet(cell)}\"");
        }
        var v = ((JsonRawRecord)r).Get(name);
        switch (v.ValueKind)
        {
            case JsonValueKind.Number:
                if (!v.TryGetDouble(out double d) || !double.IsFinite(d))
                    throw r.Error(name, DataErrorKind.NonFiniteReward, $"{Snippet(v.GetRawText())} overflows a double; rewards must be finite");
                return d;
            case JsonValueKind.Null:
                throw r.Error(name, DataErrorKind.MissingField, "is null; expected a number");
            case JsonValueKind.String when ParseRewardText(r, NonFiniteLiterals.Unmark(v.GetString()!) ?? v.GetString()!.Trim()) is double s:
                return s;
            default:
                throw r.Error(name, DataErrorKind.WrongType, $"expected a number, got {Describe(v)}");
        }
    }

    /// <summary>A number from text; null when it is not one; throws for NaN and infinities.</summary>
    private static double? ParseRewardText(RawRecord r, string s)
    {
        if (NonFiniteLiterals.IsNonFiniteSpelling(s))
            throw r.Error(Columns.Reward, DataErrorKind.NonFiniteReward, $"is {s}; rewards must be finite numbers");
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return null;
        if (!double.IsFinite(d))
            throw r.Error(Columns.Reward, DataErrorKind.NonFiniteReward, $"{Snippet(s)} overflows a double; rewards must be finite");
        return d;
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String when NonFiniteLiterals.Unmark(v.GetString()!) is string literal => $"the bare literal {literal}",
        JsonValueKind.String => $"the string \"{Snippet(v.GetRawText()[1..^1])}\"",
        JsonValueKind.Number => $"the number {Snippet(v.GetRawText())}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString(),
    };

    private static string Snippet(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
