namespace DroSharp.Alignment.Data;

/// <summary>What was wrong with a data file or one of its rows.</summary>
public enum DataErrorKind
{
    /// <summary>The file is missing or cannot be read.</summary>
    FileUnreadable,
    /// <summary>The file has no rows, no header, or columns that match no kind of data.</summary>
    UnsupportedLayout,
    /// <summary>The file's kind of data is not what the caller needs (e.g. DPO given unpaired feedback).</summary>
    WrongKind,
    /// <summary>A required field is absent, null, or an empty CSV cell.</summary>
    MissingField,
    /// <summary>A field has the wrong type, e.g. a label that is neither a boolean nor 0/1.</summary>
    WrongType,
    /// <summary>A reward is NaN or infinite (including Python's bare <c>NaN</c>/<c>Infinity</c> literals).</summary>
    NonFiniteReward,
    /// <summary>A completion (or chosen/rejected response) is empty or only whitespace.</summary>
    EmptyCompletion,
    /// <summary>A prompt with no tokens (<c>prompt_ids: []</c>, or text that encodes to nothing).</summary>
    EmptyPrompt,
    /// <summary>A token id outside the model's vocabulary.</summary>
    TokenOutOfVocabulary,
    /// <summary>A line is not valid UTF-8, or a string holds an unpaired surrogate.</summary>
    InvalidUtf8,
    /// <summary>
    /// Conversational and plain forms mixed (a list of <c>{"role", "content"}</c> messages where plain text is
    /// expected, or the reverse), or a conversational row that cannot be rendered here (no chat template, T5).
    /// </summary>
    ConversationalFormat,
    /// <summary>A JSON line (or document) that does not parse, is not an object, or repeats a key.</summary>
    MalformedJson,
    /// <summary>A CSV record with bad quoting or the wrong number of fields.</summary>
    MalformedCsv,
    /// <summary>Token ids that are not an array of non-negative 32-bit integers.</summary>
    InvalidTokenIds,
    /// <summary>A row carries a column of another kind than the file's (e.g. a label in a prompt/completion file).</summary>
    InconsistentColumns,
    /// <summary>A list of chat messages that is not one: an element without a string <c>role</c>, a bad <c>content</c>, no assistant reply.</summary>
    MalformedMessages,
    /// <summary>The chat template failed on the row's messages or refused them (its <c>raise_exception</c>).</summary>
    ChatTemplateFailed,

    /// <summary>Text the tokenizer cannot encode, or text with no tokenizer to encode it.</summary>
    Unencodable,
}
