using DroSharp.Text.Templates;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Turns rows into token ids exactly as training does: text through <see cref="ITextEncoder.EncodePrompt"/> /
/// <see cref="ITextEncoder.EncodeCompletion"/> (each distinct prompt text encoded once), ids verbatim, and a
/// conversational row through <see cref="ITextEncoder.EncodeConversation"/> with all its responses at once (a pair's
/// prompt is the common prefix of both whole conversations, as TRL renders it). A row that encodes to nothing,
/// holds ids outside the vocabulary, or that the chat template refuses is a <see cref="DataFormatException"/> naming
/// the file, line and column. Used by <see cref="TrainingDataLoader"/> and <c>dro template</c>.
/// </summary>
public sealed class RowEncoder
{
    private readonly ITextEncoder? _encoder;
    private readonly string _file;
    private readonly int? _vocabSize;
    private readonly Dictionary<string, int[]> _promptCache = new(StringComparer.Ordinal);

    /// <param name="encoder">Encodes text and conversations; may be null when every row gives token ids.</param>
    /// <param name="file">The data file, for error messages.</param>
    /// <param name="vocabSize">The model's vocabulary size: a larger id is an error (null: not checked).</param>
    public RowEncoder(ITextEncoder? encoder, string file, int? vocabSize = null)
    {
        _encoder = encoder;
        _file = file ?? throw new ArgumentNullException(nameof(file));
        _vocabSize = vocabSize;
    }

    /// <summary>
    /// Throws when <paramref name="data"/> is conversational and the encoder cannot render conversations (no chat
    /// template, no tokenizer, a T5 model) — a whole-file problem, named at the first conversational row.
    /// </summary>
    public void RequireConversationSupport(FeedbackDataset data)
    {
        if (!data.IsConversational) return;
        int line = data.Kind == DatasetKind.PreferencePairs
            ? data.Pairs.First(p => p.Prompt.IsConversational).Line
            : data.Examples.First(e => e.Prompt.IsConversational).Line;
        RequireConversationSupport(line);
    }

    public EncodedRow Encode(FeedbackExample x)
    {
        string column = x.Chat?.MessagesColumn == Columns.Messages ? Columns.Messages : Columns.Completion;
        return Encode(x.Prompt, [x.Completion], [column], x.Chat, x.Line);
    }

    public EncodedRow Encode(PreferencePair p) => Encode(p.Prompt, [p.Chosen, p.Rejected], [Columns.Chosen, Columns.Rejected], p.Chat, p.Line);

    /// <summary>A prompt alone; a conversational one is rendered with the generation prompt (for sampling).</summary>
    public EncodedRow Encode(PromptRow p) => Encode(p.Prompt, [], [], p.Chat, p.Line);

    private EncodedRow Encode(TextOrIds prompt, TextOrIds[] responses, string[] columns, ChatRowOptions? chat, int line)
    {
        if (prompt.IsConversational) return EncodeConversation(prompt, responses, columns, chat ?? ChatRowOptions.For(Columns.Prompt), line);
        var promptIds = PromptIds(prompt, line);
        if (promptIds.Length == 0) throw Error(line, Columns.Prompt, DataErrorKind.EmptyPrompt, "the prompt encodes to no tokens");
        CheckVocabulary(promptIds, prompt.HasIds ? Columns.Ids(Columns.Prompt) : Columns.Prompt, line);
        var ids = new int[responses.Length][];
        for (int i = 0; i < responses.Length; i++)
        {
            ids[i] = TextIds(responses[i], completion: true, columns[i], line);
            if (ids[i].Length == 0) throw Error(line, columns[i], DataErrorKind.EmptyCompletion, "the text encodes to no tokens");
            CheckVocabulary(ids[i], responses[i].HasIds ? Columns.Ids(columns[i]) : columns[i], line);
        }
        return new EncodedRow(line, prompt.Text, promptIds, responses.Select(r => r.Text).ToArray(), ids, false, 0, true);
    }

    private int[] PromptIds(TextOrIds p, int line)
    {
        if (p.Ids is not null) return p.Ids;
        if (!_promptCache.TryGetValue(p.Text!, out var ids)) _promptCache[p.Text!] = ids = TextIds(p, completion: false, Columns.Prompt, line);
        return ids;
    }

    /// <summary>
    /// The ids of a column: given, or the text encoded. Text with no tokenizer, or text the tokenizer cannot
    /// represent (e.g. no unknown token for a character it lacks), is a bad row naming the field.
    /// </summary>
    private int[] TextIds(TextOrIds t, bool completion, string column, int line)
    {
        if (t.HasIds) return t.Ids!;
        if (_encoder is null)
            throw Error(line, column, DataErrorKind.Unencodable,
                "the field is text but the model directory has no tokenizer.json to encode it; add one, or give the column as token ids (" + Columns.Ids(column) + ")");
        try { return t.ToIds(_encoder, completion); }
        catch (FormatException e) { throw Error(line, column, DataErrorKind.Unencodable, $"the tokenizer cannot encode the text: {e.Message}"); }
    }

    private EncodedRow EncodeConversation(TextOrIds prompt, TextOrIds[] responses, string[] columns, ChatRowOptions chat, int line)
    {
        RequireConversationSupport(line);
        string promptColumn = chat.MessagesColumn;
        EncodedConversation c;
        try
        {
            c = _encoder!.EncodeConversation(Conversation.Of(prompt, responses, chat));
        }
        catch (FormatException e)
        {
            throw Error(line, promptColumn, DataErrorKind.MalformedMessages, e.Message);
        }
        catch (ChatTemplateException e)
        {
            throw Error(line, promptColumn, DataErrorKind.ChatTemplateFailed,
                e.RaisedByTemplate ? $"the chat template refuses the messages: {e.Message}" : $"the chat template fails on the messages: {e.Message}");
        }
        if (c.PromptIds.Length == 0) throw Error(line, promptColumn, DataErrorKind.EmptyPrompt, "the rendered prompt encodes to no tokens");
        CheckVocabulary(c.PromptIds, promptColumn, line);
        for (int i = 0; i < responses.Length; i++)
        {
            if (c.ResponseIds[i].Length == 0) throw Error(line, columns[i], DataErrorKind.EmptyCompletion, "the rendered response encodes to no tokens");
            CheckVocabulary(c.ResponseIds[i], columns[i], line);
        }
        return new EncodedRow(line, c.PromptText, c.PromptIds, c.ResponseTexts.ToArray<string?>(), c.ResponseIds, true, c.PromptCharsDropped, c.SplitMatchesWhole);
    }

    private void RequireConversationSupport(int line)
    {
        string? why = _encoder is null ? "no tokenizer was given to render conversational rows" : _encoder.ConversationsUnsupportedReason;
        if (why is not null) throw Error(line, null, DataErrorKind.ConversationalFormat, $"the rows are conversations (chat messages), but {why}");
    }

    /// <summary>Ids outside the model's vocabulary would index past the embedding: a bad row, named by line and field.</summary>
    private void CheckVocabulary(int[] ids, string field, int line)
    {
        if (_vocabSize is not int v) return;
        for (int k = 0; k < ids.Length; k++)
            if (ids[k] >= v)
                throw Error(line, field, DataErrorKind.TokenOutOfVocabulary, $"token id {ids[k]} (position {k}) is outside the model's vocabulary of {v} tokens");
    }

    private DataFormatException Error(int line, string? field, DataErrorKind kind, string reason) => new(_file, line, field, kind, reason);
}
