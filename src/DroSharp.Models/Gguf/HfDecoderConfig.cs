using System.Text.Json;

namespace DroSharp.Models.Gguf;

/// <summary>
/// The fields of a decoder-only model's <c>config.json</c> that a GGUF export needs, under their Hugging Face
/// names, parsed with the defaults of transformers 4.55's config classes where a field may be absent.
/// (Our own small description so the exporter works from files on disk alone.)
/// </summary>
internal sealed class HfDecoderConfig
{
    public required string Path { get; init; }
    public required string ModelType { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    /// <summary><c>head_dim</c>, or hidden_size / num_attention_heads when absent or null.</summary>
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required JsonElement? RopeScaling { get; init; }
    public required bool? TieWordEmbeddings { get; init; }
    public required bool AttentionBias { get; init; }
    public required bool MlpBias { get; init; }
    public required string[]? LayerTypes { get; init; }
    public required int? SlidingWindow { get; init; }
    public required bool? UseSlidingWindow { get; init; }
    public required int[]? NoRopeLayers { get; init; }
    public required double PartialRotaryFactor { get; init; }
    public required int? OriginalMaxPositionEmbeddings { get; init; }
    public required double? QueryPreAttnScalar { get; init; }
    public required double? AttnLogitSoftcapping { get; init; }
    public required double? FinalLogitSoftcapping { get; init; }
    public required double? RopeLocalBaseFreq { get; init; }
    public required string? HiddenAct { get; init; }
    public required int[]? BosTokenId { get; init; }
    public required int[]? EosTokenId { get; init; }
    public required int? PadTokenId { get; init; }
    public required string? NameOrPath { get; init; }

    /// <summary>Rotary dimensions per head: head_dim × partial_rotary_factor (transformers' int()).</summary>
    public int RotaryDim => (int)(HeadDim * PartialRotaryFactor);

    public static HfDecoderConfig Load(string path)
    {
        if (!File.Exists(path)) throw new GgufExportException(path, null, "no config.json: the export needs the model's config");
        using var doc = HfJson.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new GgufExportException(path, null, "config.json must be a JSON object");
        string modelType = HfJson.String(root, "model_type", path) ?? throw new GgufExportException(path, "model_type", "is required");
        string mt = modelType;
        if (!GgufExporter.SupportedModelTypes.ContainsKey(mt))
            throw new GgufExportException(path, "model_type", $"\"{mt}\" is not exported to GGUF; supported: {string.Join(", ", GgufExporter.SupportedModelTypes.Keys)}" +
                (mt == "gemma3" ? " (for a multimodal Gemma 3 checkpoint export its text model, model_type gemma3_text)" : ""));
        bool gemma = mt is "gemma" or "gemma2" or "gemma3_text";
        int hidden = HfJson.RequiredInt(root, "hidden_size", path);
        int heads = HfJson.RequiredInt(root, "num_attention_heads", path);
        int layers = HfJson.RequiredInt(root, "num_hidden_layers", path);
        // transformers 4.55's defaults for keys a config.json may leave out (the same as DecoderConfig's).
        int? headDim = HfJson.Int(root, "head_dim", path) ?? (mt is "qwen3" ? 128 : gemma ? 256 : null);
        if (headDim is null && hidden % heads != 0)
            throw new GgufExportException(path, "num_attention_heads", $"hidden_size {hidden} is not a multiple of {heads} heads and head_dim is not given");
        if (headDim is <= 0) throw new GgufExportException(path, "head_dim", "must be positive");
        int kvHeads = HfJson.Int(root, "num_key_value_heads", path) ?? (mt is "gemma2" or "gemma3_text" or "smollm3" ? 4 : mt is "mistral" ? 8 : heads);
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new GgufExportException(path, "num_key_value_heads", $"{kvHeads} does not divide num_attention_heads {heads}");

        // An absent key takes the class default; an explicit null means "none" (e.g. Mistral v0.2's "sliding_window": null).
        bool Absent(string key) => !root.TryGetProperty(key, out _);
        int? slidingWindow = HfJson.Int(root, "sliding_window", path);
        if (slidingWindow is null && ((Absent("sliding_window") && mt is "mistral" or "qwen2" or "qwen3") || mt is "gemma2" or "gemma3_text"))
            slidingWindow = 4096;
        bool? useSlidingWindow = HfJson.Bool(root, "use_sliding_window", path);

        int[]? noRope = HfJson.IntOrList(root, "no_rope_layers", path);
        if (noRope is not null && noRope.Length != layers)
            throw new GgufExportException(path, "no_rope_layers", $"has {noRope.Length} entries for {layers} layers");
        if (noRope is null && mt == "smollm3")
        {
            // SmolLM3Config: no_rope_layers[i] = 1 (layer i uses RoPE) unless (i + 1) is a multiple of no_rope_layer_interval.
            int interval = HfJson.Int(root, "no_rope_layer_interval", path) ?? 4;
            if (interval <= 0) throw new GgufExportException(path, "no_rope_layer_interval", $"must be positive, not {interval}");
            noRope = Enumerable.Range(0, layers).Select(i => (i + 1) % interval != 0 ? 1 : 0).ToArray();
        }

        string[]? layerTypes = null;
        if (!HfJson.IsAbsent(root, "layer_types", out var lt))
        {
            if (lt.ValueKind != JsonValueKind.Array || lt.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw new GgufExportException(path, "layer_types", "must be a list of strings");
            layerTypes = lt.EnumerateArray().Select(e => e.GetString()!).ToArray();
            if (layerTypes.Length != layers)
                throw new GgufExportException(path, "layer_types", $"has {layerTypes.Length} entries for {layers} layers");
            foreach (string t in layerTypes)
                if (t is not ("full_attention" or "sliding_attention"))
                    throw new GgufExportException(path, "layer_types", $"unknown layer type \"{t}\"");
        }
        else
        {
            // The layer_types each config class derives when none is given.
            Func<int, bool>? sliding = mt switch
            {
                "qwen2" or "qwen3" when useSlidingWindow == true && slidingWindow is not null =>
                    i => i >= (HfJson.Int(root, "max_window_layers", path) ?? 28),
                "smollm3" when useSlidingWindow == true && slidingWindow is not null => i => noRope![i] == 0,
                "gemma2" => i => (i + 1) % 2 != 0,
                "gemma3_text" => i => (i + 1) % SlidingWindowPattern(root, path) != 0,
                _ => null,
            };
            if (sliding is not null)
                layerTypes = Enumerable.Range(0, layers).Select(i => sliding(i) ? "sliding_attention" : "full_attention").ToArray();
        }

        JsonElement? ropeScaling = HfJson.IsAbsent(root, "rope_scaling", out var rs) ? null : rs.Clone();
        if (ropeScaling is { ValueKind: not JsonValueKind.Object })
            throw new GgufExportException(path, "rope_scaling", "must be an object or null");

        return new HfDecoderConfig
        {
            Path = path,
            ModelType = modelType,
            HiddenSize = hidden,
            IntermediateSize = HfJson.RequiredInt(root, "intermediate_size", path),
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim ?? hidden / heads,
            VocabSize = HfJson.RequiredInt(root, "vocab_size", path),
            MaxPositionEmbeddings = HfJson.Int(root, "max_position_embeddings", path) ?? mt switch
            {
                "llama" => 2048, "mistral" or "gemma3_text" => 131072, "phi3" => 4096, "gemma" or "gemma2" => 8192, _ => 32768,
            },
            RmsNormEps = HfJson.Double(root, "rms_norm_eps", path) ?? (mt == "phi3" ? 1e-5 : 1e-6),
            RopeTheta = HfJson.Double(root, "rope_theta", path) ?? mt switch { "gemma3_text" => 1_000_000.0, "smollm3" => 2_000_000.0, _ => 10000.0 },
            RopeScaling = ropeScaling,
            TieWordEmbeddings = HfJson.Bool(root, "tie_word_embeddings", path),
            AttentionBias = HfJson.Bool(root, "attention_bias", path) ?? false,
            MlpBias = HfJson.Bool(root, "mlp_bias", path) ?? false,
            LayerTypes = layerTypes,
            SlidingWindow = slidingWindow,
            UseSlidingWindow = useSlidingWindow,
            NoRopeLayers = noRope,
            PartialRotaryFactor = HfJson.Double(root, "partial_rotary_factor", path) ?? 1.0,
            OriginalMaxPositionEmbeddings = HfJson.Int(root, "original_max_position_embeddings", path),
            QueryPreAttnScalar = HfJson.Double(root, "query_pre_attn_scalar", path) ?? (mt is "gemma2" or "gemma3_text" ? 256 : null),
            AttnLogitSoftcapping = HfJson.Double(root, "attn_logit_softcapping", path) ?? (mt == "gemma2" && Absent("attn_logit_softcapping") ? 50.0 : null),
            FinalLogitSoftcapping = HfJson.Double(root, "final_logit_softcapping", path) ?? (mt == "gemma2" && Absent("final_logit_softcapping") ? 30.0 : null),
            RopeLocalBaseFreq = HfJson.Double(root, "rope_local_base_freq", path),
            HiddenAct = HfJson.String(root, "hidden_activation", path) ?? HfJson.String(root, "hidden_act", path),
            BosTokenId = HfJson.IntOrList(root, "bos_token_id", path),
            EosTokenId = HfJson.IntOrList(root, "eos_token_id", path),
            PadTokenId = HfJson.Int(root, "pad_token_id", path),
            NameOrPath = HfJson.String(root, "_name_or_path", path),
        };
    }

    /// <summary>Gemma3TextConfig's legacy <c>sliding_window_pattern</c> (default 6): layer i slides unless (i + 1) is a multiple of it.</summary>
    private static int SlidingWindowPattern(JsonElement root, string path) =>
        HfJson.Int(root, "sliding_window_pattern", path) is int p
            ? p > 0 ? p : throw new GgufExportException(path, "sliding_window_pattern", $"must be positive, not {p}")
            : 6;
}
