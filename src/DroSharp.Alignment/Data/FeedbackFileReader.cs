using System.Text;
using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Reads feedback data from JSON lines, a JSON array, CSV or TSV (see <see cref="DataFileFormat"/>), detects its
/// <see cref="DatasetKind"/> from the columns and validates every row. Extra columns are ignored. When both
/// <c>label</c> and <c>reward</c> are present the reward is used and the label ignored, with a warning.
/// </summary>
public static class FeedbackFileReader
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 64 };

    public static FeedbackDataset Read(string path, FeedbackReadOptions? options = null) =>
        Parse(ReadBytes(path), path, options);

    /// <summary>Reads <paramref name="content"/> as if it were the file <paramref name="fileName"/> (whose extension picks the format under Auto).</summary>
    public static FeedbackDataset Parse(ReadOnlySpan<byte> content, string fileName, FeedbackReadOptions? options = null) =>
        Run(content, fileName, options, promptsOnly: false).FinishDataset();

    /// <summary>
    /// Reads only the prompts (<c>prompt</c> or <c>prompt_ids</c>; every other column is ignored), e.g. for
    /// <c>dro generate --prompts</c>. Same formats, validation and skip rules as <see cref="Read"/>.
    /// </summary>
    public static PromptFile ReadPrompts(string path, FeedbackReadOptions? options = null) =>
        ParsePrompts(ReadBytes(path), path, options);

    public static PromptFile ParsePrompts(ReadOnlySpan<byte> content, string fileName, FeedbackReadOptions? options = null) =>
        Run(content, fileName, options, promptsOnly: true).FinishPrompts();

    private static byte[] ReadBytes(string path)
    {
        if (Directory.Exists(path))
            throw new DataFormatException(path, null, null, DataErrorKind.FileUnreadable, "is a directory; give a JSONL, JSON, CSV or TSV file");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : "cannot read the file: " + e.Message;
            throw new DataFormatException(path, null, null, DataErrorKind.FileUnreadable, why);
        }
    }

    private static ReadState Run(ReadOnlySpan<byte> content, string fileName, FeedbackReadOptions? options, bool promptsOnly)
    {
        options ??= new FeedbackReadOptions();
        var format = ResolveFormat(fileName, options.Format);
        var text = DecodedText.Decode(content);
        var state = new ReadState(fileName, format, options.SkipBadRows, promptsOnly);
        if (format == DataFileFormat.Json)
        {
            if (FirstNonWhitespace(text) == '[') ReadJsonArray(text, state);
            else ReadJsonLines(text, state);
        }
        else
        {
            ReadDelimited(text, format == DataFileFormat.Tsv ? '\t' : ',', state);
        }
        return state;
    }

    public static DataFileFormat ResolveFormat(string fileName, DataFileFormat requested)
    {
        if (requested != DataFileFormat.Auto) return requested;
        string ext = Path.GetExtension(fileName).ToLowerInvariant();
        return ext switch
        {
            ".jsonl" or ".ndjson" or ".json" => DataFileFormat.Json,
            ".csv" => DataFileFormat.Csv,
            ".tsv" => DataFileFormat.Tsv,
            _ => throw new DataFormatException(fileName, null, null, DataErrorKind.UnsupportedLayout,
                ext.Length == 0
                    ? "cannot tell the format of a file without an extension (standard input is not read): save the data to a file ending in .jsonl, .json, .csv or .tsv"
                    : $"cannot tell the format from the extension '{ext}'; give a file ending in .jsonl, .json, .csv or .tsv"),
        };
    }

    private static char FirstNonWhitespace(DecodedText text)
    {
        foreach (var line in text.Lines)
            foreach (char c in line)
                if (!char.IsWhiteSpace(c)) return c;
        return '\0';
    }

    private static void ReadJsonLines(DecodedText text, ReadState state)
    {
        for (int i = 0; i < text.Lines.Count; i++)
        {
            string line = text.Lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            int lineNo = i + 1;
            state.RowsRead++;
            try
            {
                if (text.BadLines.TryGetValue(lineNo, out int col))
                    throw new DataFormatException(state.File, lineNo, null, DataErrorKind.InvalidUtf8, $"invalid UTF-8 at byte {col} of the line");
                JsonDocument doc;
                try
                {
                    doc = JsonDocument.Parse(NonFiniteLiterals.Quote(line), JsonOptions);
                }
                catch (JsonException e)
                {
                    throw new DataFormatException(state.File, lineNo, null, DataErrorKind.MalformedJson, "malformed JSON: " + JsonReason(e));
                }
                using (doc) state.Add(ObjectRecord(state.File, lineNo, doc.RootElement));
            }
            catch (DataFormatException e) when (state.CanSkip(e))
            {
                state.Skipped(e);
            }
        }
    }

    private static void ReadJsonArray(DecodedText text, ReadState state)
    {
        if (text.TryFindBadLine(1, text.Lines.Count, out int badLine, out int badColumn))
            throw new DataFormatException(state.File, badLine, null, DataErrorKind.InvalidUtf8, $"invalid UTF-8 at byte {badColumn} of the line");
        byte[] bytes = Encoding.UTF8.GetBytes(NonFiniteLiterals.Quote(text.Joined()));
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64 });
        int line = 1;
        long counted = 0;
        try
        {
            reader.Read(); // StartArray, known from the first character
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                long start = reader.TokenStartIndex;
                line += bytes.AsSpan((int)counted, (int)(start - counted)).Count((byte)'\n');
                counted = start;
                state.RowsRead++;
                using var doc = JsonDocument.ParseValue(ref reader);
                try
                {
                    state.Add(ObjectRecord(state.File, line, doc.RootElement));
                }
                catch (DataFormatException e) when (state.CanSkip(e))
                {
                    state.Skipped(e);
                }
            }
            if (reader.Read())
            {
                line += bytes.AsSpan((int)counted, (int)(reader.TokenStartIndex - counted)).Count((byte)'\n');
                throw new DataFormatException(state.File, line, null, DataErrorKind.MalformedJson, "unexpected content after the closing ']' of the array");
            }
        }
        catch (JsonException e)
        {
            throw new DataFormatException(state.File, (int)(e.LineNumber ?? 0) + 1, null, DataErrorKind.MalformedJson, "malformed JSON array: " + JsonReason(e));
        }
    }

    private static JsonRawRecord ObjectRecord(string file, int line, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new DataFormatException(file, line, null, DataErrorKind.MalformedJson, $"expected a JSON object, got {root.ValueKind.ToString().ToLowerInvariant()}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
        {
            string name;
            try { name = p.Name; }
            catch (InvalidOperationException) // values are checked field by field (RowParser); a key only here
            {
                throw new DataFormatException(file, line, null, DataErrorKind.InvalidUtf8, "a key holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)");
            }
            if (!seen.Add(name))
                throw new DataFormatException(file, line, name, DataErrorKind.MalformedJson, "the key appears twice in the object");
            if (!NestedKeysAreValid(p.Value))
                throw new DataFormatException(file, line, name, DataErrorKind.InvalidUtf8, "a key inside the value holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)");
        }
        return new JsonRawRecord(file, line, root);
    }

    /// <summary>
    /// Every key of every object nested in <paramref name="v"/> decodes (no unpaired surrogate escape), so a
    /// later property lookup (a chat message's "role") cannot fail; strings are checked where they are read.
    /// </summary>
    private static bool NestedKeysAreValid(JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in v.EnumerateObject())
                {
                    try { _ = p.Name; }
                    catch (InvalidOperationException) { return false; }
                    if (!NestedKeysAreValid(p.Value)) return false;
                }
                return true;
            case JsonValueKind.Array:
                foreach (var e in v.EnumerateArray())
                    if (!NestedKeysAreValid(e)) return false;
                return true;
            default:
                return true;
        }
    }

    /// <summary>System.Text.Json's message without its own "LineNumber: 0 | BytePositionInLine" tail, plus the column.</summary>
    private static string JsonReason(JsonException e)
    {
        string m = e.Message;
        int cut = m.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = m.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) m = m[..cut];
        return e.BytePositionInLine is long b ? $"{m.TrimEnd()} (at byte {b + 1})" : m;
    }

    private static void ReadDelimited(DecodedText text, char delimiter, ReadState state)
    {
        Dictionary<string, int>? header = null;
        int width = 0;
        foreach (var rec in CsvRecordParser.Parse(text.Joined(), delimiter))
        {
            if (header is null)
            {
                if (text.TryFindBadLine(rec.StartLine, rec.EndLine, out int bl, out int bc))
                    throw new DataFormatException(state.File, bl, null, DataErrorKind.InvalidUtf8, $"invalid UTF-8 at byte {bc} of the header line");
                if (rec.Error is not null)
                    throw new DataFormatException(state.File, rec.StartLine, null, DataErrorKind.MalformedCsv, "malformed header: " + rec.Error);
                header = ParseHeader(rec.Fields!, rec.StartLine, state.File);
                width = rec.Fields!.Length;
                state.SetKind(new CsvRawRecord(state.File, rec.StartLine, header, rec.Fields!));
                continue;
            }
            state.RowsRead++;
            if (rec.Fatal)
                throw new DataFormatException(state.File, rec.StartLine, null, DataErrorKind.MalformedCsv, rec.Error!);
            try
            {
                if (text.TryFindBadLine(rec.StartLine, rec.EndLine, out int bl, out int bc))
                    throw new DataFormatException(state.File, bl, null, DataErrorKind.InvalidUtf8, $"invalid UTF-8 at byte {bc} of the line");
                if (rec.Error is not null)
                    throw new DataFormatException(state.File, rec.StartLine, null, DataErrorKind.MalformedCsv, rec.Error);
                if (rec.Fields!.Length != width)
                    throw new DataFormatException(state.File, rec.StartLine, null, DataErrorKind.MalformedCsv,
                        $"{rec.Fields.Length} fields, but the header has {width}");
                state.Add(new CsvRawRecord(state.File, rec.StartLine, header, rec.Fields));
            }
            catch (DataFormatException e) when (state.CanSkip(e))
            {
                state.Skipped(e);
            }
        }
        if (header is null)
            throw new DataFormatException(state.File, null, null, DataErrorKind.UnsupportedLayout, "the file is empty: no header row");
    }

    private static Dictionary<string, int> ParseHeader(string[] fields, int line, string file)
    {
        var header = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < fields.Length; i++)
        {
            string name = fields[i].Trim();
            if (name.Length == 0) continue; // e.g. the unnamed index column pandas writes
            if (!header.TryAdd(name, i))
                throw new DataFormatException(file, line, name, DataErrorKind.UnsupportedLayout, "the column appears twice in the header");
        }
        return header;
    }

    /// <summary>What reading has found so far: the kind (fixed by the header or first good row), rows, skips, warnings.</summary>
    private sealed class ReadState(string file, DataFileFormat format, bool skip, bool promptsOnly)
    {
        private readonly List<PromptRow> _prompts = [];
        private readonly List<FeedbackExample> _examples = [];
        private readonly List<PreferencePair> _pairs = [];
        private readonly List<SkippedRow> _skipped = [];
        private readonly List<string> _warnings = [];
        private DatasetKind? _kind;
        private int _kindLine;
        private bool _layoutKnown;
        private int _formLine;
        private bool _conversational;

        public string File { get; } = file;

        public bool Skip { get; } = skip;

        public int RowsRead { get; set; }

        /// <summary>Row errors can be skipped; whole-file ones (an unknown layout) never.</summary>
        public bool CanSkip(DataFormatException e) => Skip && e.Kind != DataErrorKind.UnsupportedLayout;

        /// <summary>Fixes the file's kind from the CSV header or the first well-formed JSON row.</summary>
        public void SetKind(RawRecord r)
        {
            int line = r.Line;
            _layoutKnown = true;
            if (promptsOnly)
            {
                if (!Columns.HasEither(r, Columns.Prompt))
                    throw new DataFormatException(File, line, null, DataErrorKind.UnsupportedLayout,
                        $"no 'prompt' (or 'prompt_ids') column among {string.Join(", ", r.Names.Select(n => $"'{n}'"))}");
                return;
            }
            var kind = Columns.KindOf(r) ?? throw new DataFormatException(File, line, null, DataErrorKind.UnsupportedLayout,
                $"cannot tell what the data is from its columns ({string.Join(", ", r.Names.Select(n => $"'{n}'"))}); expected "
                + "prompt+completion+label, prompt+completion+reward, prompt+chosen+rejected, or prompt+completion "
                + "(any text column may be given as token ids instead, e.g. prompt_ids; or as chat messages, and a whole conversation as messages)");
            _kind = kind;
            _kindLine = line;
            if (kind == DatasetKind.ScoredFeedback && r.Has(Columns.Label))
                _warnings.Add($"{File}: both 'label' and 'reward' columns are present; the reward is used and the label ignored");
        }

        public void Add(RawRecord r)
        {
            if (!_layoutKnown) SetKind(r);
            if (promptsOnly)
            {
                var row = RowParser.ReadPromptRow(r);
                CheckForm(r, row.Prompt, Columns.Prompt);
                _prompts.Add(row);
            }
            else if (_kind == DatasetKind.PreferencePairs)
            {
                var pair = RowParser.ReadPair(r);
                CheckForm(r, pair.Prompt, pair.Chat?.MessagesColumn ?? Columns.Prompt);
                _pairs.Add(pair);
            }
            else
            {
                var example = RowParser.ReadExample(r, _kind!.Value, _kindLine);
                CheckForm(r, example.Prompt, example.Chat?.MessagesColumn ?? Columns.Prompt);
                _examples.Add(example);
            }
        }

        /// <summary>
        /// Every row of a file is conversational (chat messages, rendered with the model's chat template) or plain
        /// (text): the first row that is either fixes the form; rows given wholly as token ids fit both.
        /// </summary>
        private void CheckForm(RawRecord r, TextOrIds prompt, string column)
        {
            if (!prompt.IsConversational && prompt.Text is null) return;
            if (_formLine == 0)
            {
                _formLine = r.Line;
                _conversational = prompt.IsConversational;
                return;
            }
            if (prompt.IsConversational == _conversational) return;
            throw r.Error(column, DataErrorKind.ConversationalFormat, prompt.IsConversational
                ? $"is a list of chat messages, but line {_formLine} holds plain text; every row of a file must be conversational or plain"
                : $"is plain text, but line {_formLine} holds a conversation (chat messages); every row of a file must be conversational or plain");
        }

        public void Skipped(DataFormatException e) => _skipped.Add(new SkippedRow(File, e.Line ?? 0, e.Field, e.Kind, e.Reason));

        public FeedbackDataset FinishDataset()
        {
            RequireRows(_examples.Count + _pairs.Count);
            return new FeedbackDataset(File, format, _kind!.Value, _examples, _pairs, RowsRead, _skipped, _warnings);
        }

        public PromptFile FinishPrompts()
        {
            RequireRows(_prompts.Count);
            return new PromptFile(File, format, _prompts, RowsRead, _skipped);
        }

        private void RequireRows(int kept)
        {
            if (kept > 0) return;
            throw new DataFormatException(File, null, null, DataErrorKind.UnsupportedLayout,
                RowsRead == 0 ? "the file holds no rows" : $"all {RowsRead} rows are bad and were skipped; the first: {_skipped[0]}");
        }
    }
}
