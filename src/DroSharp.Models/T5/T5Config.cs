using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.T5;

/// <summary>
/// Hugging Face <c>T5Config</c> (<c>configuration_t5.py</c>) as read from and written to
/// <c>config.json</c>. Defaults are transformers' (those of t5-small v1.0).
/// <para>
/// <see cref="FeedForwardProj"/> derives <see cref="DenseActFn"/> and <see cref="IsGatedAct"/> exactly
/// as transformers does: <c>act_info = feed_forward_proj.split("-")</c>, <c>dense_act_fn =
/// act_info[-1]</c>, <c>is_gated_act = act_info[0] == "gated"</c>, <c>"gated-gelu"</c> →
/// <c>"gelu_new"</c>, anything but <c>ACT</c> or <c>gated-ACT</c> rejected. Setting it overwrites both;
/// <c>dense_act_fn</c> / <c>is_gated_act</c> stored in a file are applied after it, as transformers
/// applies extra kwargs after <c>__init__</c>.
/// </para>
/// <para>
/// The aliases <c>hidden_size</c>, <c>num_attention_heads</c>, <c>num_hidden_layers</c> are read as
/// <c>d_model</c>, <c>num_heads</c>, <c>num_layers</c> (an alias and its key that disagree are an
/// error) and written under the canonical name. Keys this class does not know are kept in
/// <see cref="Extra"/> and written back. Output is transformers' layout: keys sorted, 2-space indent.
/// </para>
/// </summary>
public sealed class T5Config : IModelConfig
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["hidden_size"] = "d_model",
        ["num_attention_heads"] = "num_heads",
        ["num_hidden_layers"] = "num_layers",
    };

    /// <summary>Keys with a typed property, as written.</summary>
    public static readonly IReadOnlyList<string> KnownKeys =
    [
        "architectures", "classifier_dropout", "d_ff", "d_kv", "d_model", "decoder_start_token_id", "dense_act_fn",
        "dropout_rate", "eos_token_id", "feed_forward_proj", "initializer_factor", "is_encoder_decoder", "is_gated_act",
        "layer_norm_epsilon", "model_type", "num_decoder_layers", "num_heads", "num_layers", "pad_token_id",
        "relative_attention_max_distance", "relative_attention_num_buckets", "tie_word_embeddings", "use_cache", "vocab_size",
    ];

    public const string ModelTypeName = "t5";

    /// <summary>
    /// The feed-forward activations DroSharp's T5 implements (transformers' ACT2FN names): relu (v1.0) and gelu_new
    /// (v1.1, Flan). A config may name others (it parses as transformers reads it); building a model refuses them.
    /// </summary>
    public static readonly IReadOnlyList<string> SupportedActivations = ["relu", "gelu_new"];

    private string _feedForwardProj = "relu";
    private int? _numDecoderLayers;

    public int VocabSize { get; set; } = 32128;

    public int DModel { get; set; } = 512;

    /// <summary>Size of one head's query/key/value.</summary>
    public int DKv { get; set; } = 64;

    public int DFf { get; set; } = 2048;

    /// <summary>Encoder blocks.</summary>
    public int NumLayers { get; set; } = 6;

    /// <summary>Decoder blocks; <see cref="NumLayers"/> unless set.</summary>
    public int NumDecoderLayers
    {
        get => _numDecoderLayers ?? NumLayers;
        set => _numDecoderLayers = value;
    }

    public int NumHeads { get; set; } = 8;

    public int RelativeAttentionNumBuckets { get; set; } = 32;

    public int RelativeAttentionMaxDistance { get; set; } = 128;

    public double DropoutRate { get; set; } = 0.1;

    public double ClassifierDropout { get; set; } = 0.0;

    public double LayerNormEpsilon { get; set; } = 1e-6;

    public double InitializerFactor { get; set; } = 1.0;

    /// <summary><c>"relu"</c>, <c>"gated-gelu"</c>, <c>"gated-relu"</c>, <c>"gated-silu"</c>, …; sets <see cref="DenseActFn"/> and <see cref="IsGatedAct"/>.</summary>
    public string FeedForwardProj
    {
        get => _feedForwardProj;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (!TryDeriveActivation(value, out string dense, out bool gated, out string? error))
                throw new ArgumentException($"feed_forward_proj: {error}", nameof(value));
            _feedForwardProj = value;
            DenseActFn = dense;
            IsGatedAct = gated;
        }
    }

    /// <summary>transformers' derivation of (dense_act_fn, is_gated_act) from feed_forward_proj.</summary>
    public static bool TryDeriveActivation(string feedForwardProj, out string denseActFn, out bool isGatedAct, out string? error)
    {
        string[] actInfo = feedForwardProj.Split('-');
        denseActFn = feedForwardProj == "gated-gelu" ? "gelu_new" : actInfo[^1]; // "for backwards compatibility"
        isGatedAct = actInfo[0] == "gated";
        if ((actInfo.Length > 1 && actInfo[0] != "gated") || actInfo.Length > 2 || actInfo[^1].Length == 0)
        {
            error = $"\"{feedForwardProj}\" is not a valid activation of the dense layer; use \"gated-{{ACT_FN}}\" or \"{{ACT_FN}}\", e.g. \"gated-gelu\" or \"relu\"";
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>The feed-forward activation (transformers' ACT2FN name, e.g. <c>relu</c>, <c>gelu_new</c>).</summary>
    public string DenseActFn { get; set; } = "relu";

    /// <summary>Gated feed-forward (<c>wi_0</c>, <c>wi_1</c>) rather than <c>wi</c>.</summary>
    public bool IsGatedAct { get; set; }

    public bool IsEncoderDecoder { get; set; } = true;

    public bool UseCache { get; set; } = true;

    public int? PadTokenId { get; set; } = 0;

    public int? EosTokenId { get; set; } = 1;

    /// <summary>First decoder input; null when absent (transformers' default; T5 checkpoints set 0).</summary>
    public int? DecoderStartTokenId { get; set; }

    /// <summary>Share <c>shared.weight</c> as the LM head (with the d_model^-0.5 rescale); transformers' default is true.</summary>
    public bool TieWordEmbeddings { get; set; } = true;

    public IReadOnlyList<string>? Architectures { get; set; }

    public string ModelType => ModelTypeName;

    /// <summary>The width of the encoder states a value head reads: d_model.</summary>
    public int HiddenSize => DModel;

    /// <summary>None: relative position buckets have no maximum length.</summary>
    public int? MaxSequenceLength => null;

    /// <summary>The vocabulary size, <c>pad_token_id</c> (also the decoder start) and <c>eos_token_id</c> of the tokenizer.</summary>
    public void UseTokenizer(TokenizerIds ids)
    {
        VocabSize = ids.VocabSize;
        if (ids.PadId is int pad) { PadTokenId = pad; DecoderStartTokenId = pad; }
        if (ids.EosId is int eos) EosTokenId = eos;
        DecoderStartTokenId ??= PadTokenId ?? 0;
        Validate();
    }

    /// <summary>Width of the attention projections: <c>num_heads · d_kv</c> (need not equal d_model).</summary>
    public int InnerDim => NumHeads * DKv;

    /// <summary>
    /// Parameters of the policy: <c>shared</c> [V, d]; per encoder block self-attention (4·d·inner) + feed-forward
    /// ((2 or 3 when gated)·d·d_ff) + 2 norms; per decoder block also cross-attention and a third norm; the relative
    /// bias [buckets, heads] in block 0 of each stack; two final norms; <c>lm_head</c> [V, d] when untied.
    /// </summary>
    public long ParameterCount()
    {
        long d = DModel, attention = 4L * d * ((long)NumHeads * DKv), ff = (IsGatedAct ? 3L : 2L) * d * DFf;
        long bias = (long)RelativeAttentionNumBuckets * NumHeads;
        long encoder = NumLayers * (attention + ff + 2 * d) + bias + d;
        long decoder = NumDecoderLayers * (2 * attention + ff + 3 * d) + bias + d;
        return (long)VocabSize * d * (TieWordEmbeddings ? 1 : 2) + encoder + decoder;
    }

    /// <summary><c>shared</c> [V, d], a feed-forward [d_ff, d] or an attention projection [inner, d], whichever is larger.</summary>
    public long LargestTensorElements => Math.Max((long)VocabSize * DModel, Math.Max((long)DModel * DFf, (long)DModel * InnerDim));

    /// <summary>Keys without a typed property (e.g. <c>n_positions</c>, <c>torch_dtype</c>), preserved on a round trip.</summary>
    public JsonObject Extra { get; private set; } = new();

    /// <summary>Problems as (JSON key, message); empty for a usable config.</summary>
    public IReadOnlyList<(string Key, string Message)> Problems()
    {
        var p = new List<(string, string)>();
        void Positive(string key, int v)
        {
            if (v < 1) p.Add((key, $"must be at least 1, got {v}"));
        }
        Positive("vocab_size", VocabSize);
        Positive("d_model", DModel);
        Positive("d_kv", DKv);
        Positive("d_ff", DFf);
        Positive("num_layers", NumLayers);
        Positive("num_decoder_layers", NumDecoderLayers);
        Positive("num_heads", NumHeads);
        if ((long)NumHeads * DKv > int.MaxValue) p.Add(("d_kv", $"num_heads · d_kv = {(long)NumHeads * DKv} is too large"));
        // Bidirectional buckets halve the count and keep half of that exact; the logarithmic part
        // divides by log(max_distance / max_exact), which must be positive.
        if (RelativeAttentionNumBuckets < 4)
            p.Add(("relative_attention_num_buckets", $"must be at least 4, got {RelativeAttentionNumBuckets}"));
        if (RelativeAttentionMaxDistance <= RelativeAttentionNumBuckets / 2)
            p.Add(("relative_attention_max_distance",
                $"must exceed relative_attention_num_buckets / 2 = {RelativeAttentionNumBuckets / 2}, got {RelativeAttentionMaxDistance}"));
        if (!(DropoutRate >= 0 && DropoutRate < 1)) p.Add(("dropout_rate", $"must be in [0, 1), got {Format(DropoutRate)}"));
        if (!(ClassifierDropout >= 0 && ClassifierDropout < 1)) p.Add(("classifier_dropout", $"must be in [0, 1), got {Format(ClassifierDropout)}"));
        if (!(LayerNormEpsilon > 0 && double.IsFinite(LayerNormEpsilon))) p.Add(("layer_norm_epsilon", $"must be positive and finite, got {Format(LayerNormEpsilon)}"));
        if (!(InitializerFactor > 0 && double.IsFinite(InitializerFactor))) p.Add(("initializer_factor", $"must be positive and finite, got {Format(InitializerFactor)}"));
        if (string.IsNullOrEmpty(DenseActFn)) p.Add(("dense_act_fn", "must name an activation"));
        void TokenId(string key, int? id)
        {
            if (id is { } v && (v < 0 || v >= VocabSize)) p.Add((key, $"must be in [0, vocab_size = {VocabSize}), got {v}"));
        }
        TokenId("pad_token_id", PadTokenId);
        TokenId("eos_token_id", EosTokenId);
        TokenId("decoder_start_token_id", DecoderStartTokenId);
        foreach (var (key, _) in Extra)
            if (KnownKeys.Contains(key) || Aliases.ContainsKey(key))
                p.Add((key, "is a typed property of T5Config and must not be in Extra"));
        return p;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad key.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new ArgumentException($"{problems[0].Key}: {problems[0].Message}");
    }

    public T5Config Clone()
    {
        var c = (T5Config)MemberwiseClone();
        c.Extra = (JsonObject)Extra.DeepClone();
        c.Architectures = Architectures?.ToArray();
        return c;
    }

    /// <summary>Reads <c>config.json</c>; a bad value gives a <see cref="CheckpointFormatException"/> naming the file and key.</summary>
    public static T5Config Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllText(path, Encoding.UTF8), path);
    }

    /// <summary>Parses config.json text; <paramref name="source"/> names it in errors.</summary>
    public static T5Config Parse(string json, string source = "config.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(source, null, $"not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(source, null, $"a config must be a JSON object, found {doc.RootElement.ValueKind}");
            if (Text.JsonStrings.FindInvalid(doc.RootElement) is { } bad)
                throw new CheckpointFormatException(source, bad, "holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");
            var keys = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
                if (!keys.TryAdd(prop.Name, prop.Value))
                    throw new CheckpointFormatException(source, prop.Name, "the key appears twice");
            var reader = new KeyReader(keys, source);
            var c = new T5Config();
            Read(c, reader);
            var problems = c.Problems();
            if (problems.Count > 0) throw new CheckpointFormatException(source, problems[0].Key, problems[0].Message);
            return c;
        }
    }

    private static void Read(T5Config c, KeyReader r)
    {
        if (r.String("model_type") is { } type && type != ModelTypeName)
            throw new CheckpointFormatException(r.Source, "model_type", $"expected \"{ModelTypeName}\", got \"{type}\"");
        c.VocabSize = r.Int("vocab_size") ?? c.VocabSize;
        c.DModel = r.Int("d_model") ?? c.DModel;
        c.DKv = r.Int("d_kv") ?? c.DKv;
        c.DFf = r.Int("d_ff") ?? c.DFf;
        c.NumLayers = r.Int("num_layers") ?? c.NumLayers;
        if (r.Int("num_decoder_layers") is { } dec) c.NumDecoderLayers = dec; // null or absent: = num_layers
        c.NumHeads = r.Int("num_heads") ?? c.NumHeads;
        c.RelativeAttentionNumBuckets = r.Int("relative_attention_num_buckets") ?? c.RelativeAttentionNumBuckets;
        c.RelativeAttentionMaxDistance = r.Int("relative_attention_max_distance") ?? c.RelativeAttentionMaxDistance;
        c.DropoutRate = r.Double("dropout_rate") ?? c.DropoutRate;
        c.ClassifierDropout = r.Double("classifier_dropout") ?? c.ClassifierDropout;
        c.LayerNormEpsilon = r.Double("layer_norm_epsilon") ?? c.LayerNormEpsilon;
        c.InitializerFactor = r.Double("initializer_factor") ?? c.InitializerFactor;
        if (r.String("feed_forward_proj") is { } proj)
        {
            if (!TryDeriveActivation(proj, out _, out _, out string? error))
                throw new CheckpointFormatException(r.Source, "feed_forward_proj", error!);
            c.FeedForwardProj = proj;
        }
        c.DenseActFn = r.String("dense_act_fn") ?? c.DenseActFn;
        c.IsGatedAct = r.Bool("is_gated_act") ?? c.IsGatedAct;
        c.IsEncoderDecoder = r.Bool("is_encoder_decoder") ?? c.IsEncoderDecoder;
        c.UseCache = r.Bool("use_cache") ?? c.UseCache;
        c.TieWordEmbeddings = r.Bool("tie_word_embeddings") ?? c.TieWordEmbeddings;
        c.PadTokenId = r.Has("pad_token_id") ? r.Int("pad_token_id") : c.PadTokenId;
        c.EosTokenId = r.Has("eos_token_id") ? r.Int("eos_token_id") : c.EosTokenId;
        c.DecoderStartTokenId = r.Has("decoder_start_token_id") ? r.Int("decoder_start_token_id") : c.DecoderStartTokenId;
        c.Architectures = r.StringList("architectures");

        foreach (var (alias, canonical) in Aliases)
        {
            if (r.Int(alias) is not { } v) continue;
            int? stated = r.Int(canonical);
            if (stated is { } s && s != v)
                throw new CheckpointFormatException(r.Source, alias, $"is an alias of {canonical} but says {v} where {canonical} says {s}");
            switch (canonical)
            {
                case "d_model": c.DModel = v; break;
                case "num_heads": c.NumHeads = v; break;
                default: c.NumLayers = v; break;
            }
        }

        foreach (var (key, value) in r.Keys)
            if (!KnownKeys.Contains(key) && !Aliases.ContainsKey(key))
                c.Extra[key] = JsonNode.Parse(value.GetRawText());
    }

    /// <summary>config.json text: keys sorted, 2-space indent, trailing newline (as transformers writes it).</summary>
    public string ToJson()
    {
        Validate();
        var known = new Dictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal)
        {
            ["architectures"] = w =>
            {
                if (Architectures is null) { w.WriteNullValue(); return; }
                w.WriteStartArray();
                foreach (var a in Architectures) w.WriteStringValue(a);
                w.WriteEndArray();
            },
            ["classifier_dropout"] = w => w.WriteRawValue(Format(ClassifierDropout)),
            ["d_ff"] = w => w.WriteNumberValue(DFf),
            ["d_kv"] = w => w.WriteNumberValue(DKv),
            ["d_model"] = w => w.WriteNumberValue(DModel),
            ["decoder_start_token_id"] = w => WriteNullable(w, DecoderStartTokenId),
            ["dense_act_fn"] = w => w.WriteStringValue(DenseActFn),
            ["dropout_rate"] = w => w.WriteRawValue(Format(DropoutRate)),
            ["eos_token_id"] = w => WriteNullable(w, EosTokenId),
            ["feed_forward_proj"] = w => w.WriteStringValue(FeedForwardProj),
            ["initializer_factor"] = w => w.WriteRawValue(Format(InitializerFactor)),
            ["is_encoder_decoder"] = w => w.WriteBooleanValue(IsEncoderDecoder),
            ["is_gated_act"] = w => w.WriteBooleanValue(IsGatedAct),
            ["layer_norm_epsilon"] = w => w.WriteRawValue(Format(LayerNormEpsilon)),
            ["model_type"] = w => w.WriteStringValue(ModelTypeName),
            ["num_decoder_layers"] = w => w.WriteNumberValue(NumDecoderLayers),
            ["num_heads"] = w => w.WriteNumberValue(NumHeads),
            ["num_layers"] = w => w.WriteNumberValue(NumLayers),
            ["pad_token_id"] = w => WriteNullable(w, PadTokenId),
            ["relative_attention_max_distance"] = w => w.WriteNumberValue(RelativeAttentionMaxDistance),
            ["relative_attention_num_buckets"] = w => w.WriteNumberValue(RelativeAttentionNumBuckets),
            ["tie_word_embeddings"] = w => w.WriteBooleanValue(TieWordEmbeddings),
            ["use_cache"] = w => w.WriteBooleanValue(UseCache),
            ["vocab_size"] = w => w.WriteNumberValue(VocabSize),
        };
        var allKeys = known.Keys.Concat(Extra.Select(kv => kv.Key)).Order(StringComparer.Ordinal);

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            foreach (string key in allKeys)
            {
                w.WritePropertyName(key);
                if (known.TryGetValue(key, out var write)) write(w);
                else if (Extra[key] is { } node) node.WriteTo(w);
                else w.WriteNullValue();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()).Replace("\r\n", "\n") + "\n";
    }

    /// <summary>Writes config.json atomically (temporary file, then rename).</summary>
    public void Save(string path)
    {
        string json = ToJson();
        AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(json)));
    }

    public override string ToString() =>
        $"T5Config(vocab {VocabSize}, d_model {DModel}, d_kv {DKv}, d_ff {DFf}, layers {NumLayers}+{NumDecoderLayers}, heads {NumHeads}, {FeedForwardProj}, tied {TieWordEmbeddings})";

    private static void WriteNullable(Utf8JsonWriter w, int? v)
    {
        if (v is { } x) w.WriteNumberValue(x);
        else w.WriteNullValue();
    }

    /// <summary>A double as Python's json writes it: <c>0.0</c>, <c>1e-06</c>, <c>0.1</c>.</summary>
    private static string Format(double v)
    {
        if (!double.IsFinite(v)) return v.ToString(CultureInfo.InvariantCulture); // only in messages: Validate rejects these
        if (double.IsInteger(v) && Math.Abs(v) < 1e16) return v.ToString("F1", CultureInfo.InvariantCulture);
        return v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
    }

    /// <summary>Typed access to the keys of one config.json, with errors naming the key.</summary>
    private sealed class KeyReader(Dictionary<string, JsonElement> keys, string source)
    {
        public string Source => source;

        public IReadOnlyDictionary<string, JsonElement> Keys => keys;

        public bool Has(string key) => keys.ContainsKey(key);

        private JsonElement? Get(string key) =>
            keys.TryGetValue(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        public int? Int(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
                throw Bad(key, "an integer", v);
            return i;
        }

        public double? Double(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
                throw Bad(key, "a number", v);
            return d;
        }

        public bool? Bool(string key)
        {
            if (Get(key) is not { } v) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Bad(key, "true or false", v),
            };
        }

        public string? String(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind != JsonValueKind.String) throw Bad(key, "a string", v);
            return v.GetString();
        }

        public IReadOnlyList<string>? StringList(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "a list of strings", v);
            var list = new List<string>();
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) throw Bad(key, "a list of strings", v);
                list.Add(item.GetString()!);
            }
            return list;
        }

        private CheckpointFormatException Bad(string key, string expected, JsonElement v)
        {
            string raw = v.GetRawText();
            if (raw.Length > 60) raw = raw[..57] + "...";
            return new CheckpointFormatException(source, key, $"expected {expected}, got {raw}");
        }
    }
}
