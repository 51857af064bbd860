using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;
using DroSharp.Text.Decoders;
using DroSharp.Text.Models;
using DroSharp.Text.Normalizers;
using DroSharp.Text.PreTokenizers;
using DroSharp.Text.Processors;
using DroSharp.Text.Serialization;

namespace DroSharp.Text;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> pipeline: added tokens are cut out of the raw text, the rest is
/// normalized, pre-tokenized and run through the model (Unigram, BPE or WordLevel), then a post-processor
/// adds special tokens. Thread-safe for concurrent <see cref="Encode"/>/<see cref="Decode"/> calls.
/// </summary>
/// <remarks>
/// Differences from HF <c>tokenizers</c>: no character offsets; <c>truncation</c> and <c>padding</c> are kept
/// for <see cref="Save"/> but never applied (callers truncate and pad ids); BPE dropout is never applied.
/// </remarks>
public sealed class Tokenizer
{
    private readonly AddedVocabulary _added;
    private readonly JsonElement? _truncation;
    private readonly JsonElement? _padding;

    internal Tokenizer(
        ITokenizerModel model,
        INormalizer? normalizer,
        IPreTokenizer? preTokenizer,
        IPostProcessor? postProcessor,
        IDecoder? decoder,
        IReadOnlyList<AddedToken> addedTokens,
        JsonElement? truncation = null,
        JsonElement? padding = null,
        SpecialTokenNames? specialNames = null)
    {
        Model = model;
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        PostProcessor = postProcessor;
        Decoder = decoder;
        _truncation = truncation;
        _padding = padding;
        _added = new AddedVocabulary(addedTokens, normalizer == null ? null : normalizer.Normalize);
        int max = model.MaxId;
        foreach (var t in addedTokens) max = Math.Max(max, t.Id);
        VocabSize = max + 1;
        PadId = Find(specialNames?.Pad, "<pad>", "[PAD]", "<|pad|>", "<|endoftext|>");
        EosId = Find(specialNames?.Eos, "</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>", "[SEP]");
        BosId = Find(specialNames?.Bos, "<s>", "<|begin_of_text|>", "[CLS]");
        UnkId = Find(specialNames?.Unk, model.UnkToken, "<unk>", "[UNK]");
    }

    internal ITokenizerModel Model { get; }
    internal INormalizer? Normalizer { get; }
    internal IPreTokenizer? PreTokenizer { get; }
    internal IPostProcessor? PostProcessor { get; }
    internal IDecoder? Decoder { get; }

    /// <summary>Largest id (model or added token) + 1: the embedding rows a model needs for this tokenizer.</summary>
    public int VocabSize { get; }

    /// <summary>Padding id: the tokenizer_config.json <c>pad_token</c> if given, else the first of <c>&lt;pad&gt;</c>, <c>[PAD]</c>, <c>&lt;|pad|&gt;</c>, <c>&lt;|endoftext|&gt;</c> present.</summary>
    public int? PadId { get; }
    /// <summary>End-of-sequence id: <c>eos_token</c> if given, else the first of <c>&lt;/s&gt;</c>, <c>&lt;|endoftext|&gt;</c>, <c>&lt;|end_of_text|&gt;</c>, <c>&lt;|im_end|&gt;</c>, <c>[SEP]</c>.</summary>
    public int? EosId { get; }
    /// <summary>Beginning-of-sequence id: <c>bos_token</c> if given, else <c>&lt;s&gt;</c>, <c>&lt;|begin_of_text|&gt;</c> or <c>[CLS]</c>; T5 has none.</summary>
    public int? BosId { get; }
    /// <summary>Unknown-token id: the model's unk token, else <c>&lt;unk&gt;</c> or <c>[UNK]</c>.</summary>
    public int? UnkId { get; }

    /// <summary>The added tokens (tokenizer.json <c>added_tokens</c>), in id order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _added.Tokens;

    private int? Find(string? configured, params string?[] candidates)
    {
        if (configured != null) return TokenToId(configured);
        foreach (var c in candidates)
            if (c != null && TokenToId(c) is int id) return id;
        return null;
    }

    /// <summary>Reads a tokenizer.json (or a gzip-compressed <c>.json.gz</c>). A <c>tokenizer_config.json</c> beside it names the special tokens.</summary>
    public static Tokenizer FromFile(string path)
    {
        string json;
        try
        {
            if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
                using var reader = new StreamReader(gz, System.Text.Encoding.UTF8);
                json = reader.ReadToEnd();
            }
            else
            {
                json = File.ReadAllText(path, System.Text.Encoding.UTF8);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new IOException($"{path}: cannot read tokenizer ({e.Message})", e);
        }
        SpecialTokenNames? names = null;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        string config = Path.Combine(dir ?? ".", "tokenizer_config.json");
        if (File.Exists(config)) names = SpecialTokenNames.FromConfig(config);
        try
        {
            return FromJson(json, names);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or JsonException)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses tokenizer.json text.</summary>
    public static Tokenizer FromJson(string json) => FromJson(json, null);

    internal static Tokenizer FromJson(string json, SpecialTokenNames? names)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("tokenizer.json: expected a JSON object");
        if (JsonStrings.FindInvalid(root) is { } bad) throw new FormatException($"tokenizer.json: {bad} holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");
        var modelJson = JsonFields.Get(root, "model") ?? throw new FormatException("tokenizer.json: \"model\" is missing");
        var model = ComponentReader.ReadModel(modelJson, "model");
        var normalizer = JsonFields.Get(root, "normalizer") is { } n ? ComponentReader.ReadNormalizer(n, "normalizer") : null;
        var pre = JsonFields.Get(root, "pre_tokenizer") is { } p ? ComponentReader.ReadPreTokenizer(p, "pre_tokenizer") : null;
        var post = JsonFields.Get(root, "post_processor") is { } pp ? ComponentReader.ReadPostProcessor(pp, "post_processor") : null;
        var decoder = JsonFields.Get(root, "decoder") is { } d ? ComponentReader.ReadDecoder(d, "decoder") : null;

        var added = new List<AddedToken>();
        if (JsonFields.Get(root, "added_tokens") is { } arr)
        {
            int i = 0;
            foreach (var t in arr.EnumerateArray())
            {
                string path = $"added_tokens[{i++}]";
                added.Add(new AddedToken(
                    JsonFields.Int(t, "id", path),
                    JsonFields.String(t, "content", path),
                    JsonFields.Bool(t, "single_word", path, false),
                    JsonFields.Bool(t, "lstrip", path, false),
                    JsonFields.Bool(t, "rstrip", path, false),
                    JsonFields.Bool(t, "normalized", path, true),
                    JsonFields.Bool(t, "special", path, false)));
            }
        }
        added.Sort((a, b) => a.Id.CompareTo(b.Id));
        return new Tokenizer(model, normalizer, pre, post, decoder, added,
            JsonFields.Get(root, "truncation")?.Clone(), JsonFields.Get(root, "padding")?.Clone(), names);
    }

    /// <summary>Token ids of <paramref name="text"/>; with <paramref name="addSpecialTokens"/> the post-processor's (T5: a trailing <c>&lt;/s&gt;</c>).</summary>
    public int[] EncodeIds(string text, bool addSpecialTokens = true) => Encode(text, addSpecialTokens).Ids;

    public TokenEncoding Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        var tokens = new List<string>();
        var pieces = new List<PreToken>();

        foreach (var (start, end, token) in _added.Split(text, normalizedSet: false))
        {
            if (token != null)
            {
                ids.Add(token.Id);
                tokens.Add(text.Substring(start, end - start));
                continue;
            }
            string segment = text.Substring(start, end - start);
            string normalized = Normalizer?.Normalize(segment) ?? segment;
            foreach (var (s2, e2, token2) in _added.Split(normalized, normalizedSet: true))
            {
                if (token2 != null)
                {
                    ids.Add(token2.Id);
                    tokens.Add(normalized.Substring(s2, e2 - s2));
                    continue;
                }
                if (e2 == s2) continue; // HF drops empty splits before pre-tokenizing
                var piece = new PreToken(normalized.Substring(s2, e2 - s2), AtStart: start == 0 && s2 == 0);
                pieces.Clear();
                if (PreTokenizer == null) pieces.Add(piece);
                else PreTokenizer.PreTokenize(piece, pieces);
                foreach (var pt in pieces)
                    if (pt.Text.Length > 0) Model.Tokenize(pt.Text, ids, tokens);
            }
        }

        var special = new List<bool>(ids.Count + 2);
        for (int i = 0; i < ids.Count; i++) special.Add(false);
        if (addSpecialTokens) PostProcessor?.ProcessSingle(ids, tokens, special);
        return new TokenEncoding(ids.ToArray(), tokens.ToArray(), special.ToArray());
    }

    /// <summary>
    /// Text of <paramref name="ids"/>: tokens (added tokens first, then the model's; unknown ids skipped) go
    /// through the decoder and are concatenated; without a decoder they are joined by spaces, as HF does.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            string? token = _added.ById.TryGetValue(id, out var at) ? at.Content : Model.IdToToken(id);
            if (token == null) continue;
            if (skipSpecialTokens && _added.ByContent.TryGetValue(token, out var a) && a.Special) continue;
            tokens.Add(token);
        }
        return Decoder == null ? string.Join(' ', tokens) : string.Concat(Decoder.DecodeChain(tokens));
    }

    public int? TokenToId(string token) =>
        _added.ByContent.TryGetValue(token, out var t) ? t.Id : Model.TokenToId(token);

    public string? IdToToken(int id) =>
        _added.ById.TryGetValue(id, out var t) ? t.Content : Model.IdToToken(id);

    /// <summary>Writes tokenizer.json (to a temporary file, then renamed into place).</summary>
    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string tmp = full + $".tmp{Environment.ProcessId}";
        File.WriteAllText(tmp, ToJson(), new System.Text.UTF8Encoding(false));
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>The tokenizer.json text, laid out like HF's writer (2-space indentation, same key order).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            WriteRaw(w, "truncation", _truncation);
            WriteRaw(w, "padding", _padding);
            w.WriteStartArray("added_tokens");
            foreach (var t in _added.Tokens)
            {
                w.WriteStartObject();
                w.WriteNumber("id", t.Id);
                w.WriteString("content", t.Content);
                w.WriteBoolean("single_word", t.SingleWord);
                w.WriteBoolean("lstrip", t.LStrip);
                w.WriteBoolean("rstrip", t.RStrip);
                w.WriteBoolean("normalized", t.Normalized);
                w.WriteBoolean("special", t.Special);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteComponent(w, "normalizer", Normalizer == null ? null : Normalizer.Write);
            WriteComponent(w, "pre_tokenizer", PreTokenizer == null ? null : PreTokenizer.Write);
            WriteComponent(w, "post_processor", PostProcessor == null ? null : PostProcessor.Write);
            WriteComponent(w, "decoder", Decoder == null ? null : Decoder.Write);
            w.WritePropertyName("model");
            Model.Write(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteRaw(Utf8JsonWriter w, string name, JsonElement? value)
    {
        w.WritePropertyName(name);
        if (value is { } v) v.WriteTo(w); else w.WriteNullValue();
    }

    private static void WriteComponent(Utf8JsonWriter w, string name, Action<Utf8JsonWriter>? write)
    {
        w.WritePropertyName(name);
        if (write == null) w.WriteNullValue(); else write(w);
    }
}
