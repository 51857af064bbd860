using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;

namespace DroSharp.Models.Decoder;

/// <summary>
/// The <c>config.json</c> of a decoder-only model (llama, mistral, qwen2, qwen3, smollm3, phi3, gemma,
/// gemma2, gemma3_text) read as transformers 4.55's configuration and modeling code read it: each
/// family's defaults, derived layer types and RoPE layers, and every switch of
/// <c>reference/decoders.md</c> §2 resolved into one typed description the model is built from. A
/// key the modeling code reads with a value DroSharp does not implement is refused by name (an
/// unknown RoPE type, activation, layer type, a quantisation config, bidirectional attention); keys
/// the modeling code never reads are kept and written back unchanged.
/// </summary>
public sealed class DecoderConfig : IModelConfig
{
    /// <summary>The <c>model_type</c> values of the decoder-only family.</summary>
    public static readonly IReadOnlyList<string> ModelTypeNames =
        ["llama", "mistral", "qwen2", "qwen3", "smollm3", "phi3", "gemma", "gemma2", "gemma3_text"];

    private static readonly string[] Activations = ["silu", "gelu_pytorch_tanh", "gelu_new"];
    private static readonly string[] RopeTypes = ["default", "linear", "dynamic", "llama3", "yarn", "longrope"];

    private readonly JsonObject _json;

    private DecoderConfig(JsonObject json, string source)
    {
        _json = json;
        Source = source;
    }

    public string Source { get; }

    public string ModelType { get; private set; } = "";
    public int VocabSize { get; private set; }
    public int HiddenSize { get; private set; }
    public int IntermediateSize { get; private set; }
    public int NumHiddenLayers { get; private set; }
    public int NumAttentionHeads { get; private set; }
    public int NumKeyValueHeads { get; private set; }
    public int HeadDim { get; private set; }
    public int MaxPositionEmbeddings { get; private set; }
    public double RmsNormEps { get; private set; }
    public double InitializerRange { get; private set; }

    /// <summary>The MLP activation: <c>silu</c> (gated SiLU) or <c>gelu_pytorch_tanh</c> / <c>gelu_new</c> (gated tanh-GELU).</summary>
    public string HiddenAct { get; private set; } = "silu";

    public bool TieWordEmbeddings { get; private set; }

    /// <summary>Bias on q, k, v (and o when <see cref="OutputBias"/>).</summary>
    public bool QkvBias { get; private set; }
    public bool OutputBias { get; private set; }
    public bool MlpBias { get; private set; }

    /// <summary>RMSNorm over each head of q and k before RoPE (Qwen3, Gemma 3).</summary>
    public bool QkNorm { get; private set; }

    /// <summary>Phi-3's fused <c>qkv_proj</c> and <c>gate_up_proj</c>.</summary>
    public bool FusedProjections { get; private set; }

    /// <summary>Gemma's norms: x·(1 + w), computed in float32.</summary>
    public bool NormPlusOne { get; private set; }

    /// <summary>Gemma 2/3's four norms per layer (pre/post attention, pre/post feed-forward).</summary>
    public bool SandwichNorms { get; private set; }

    /// <summary>Embeddings × √hidden (Gemma), in the embedding's dtype; 1 otherwise.</summary>
    public float EmbeddingScale { get; private set; } = 1f;

    /// <summary>The attention scale: query_pre_attn_scalar^−½ (Gemma 2/3), else head_dim^−½.</summary>
    public float AttentionScale { get; private set; }

    /// <summary>tanh(s/c)·c on attention scores (0: off).</summary>
    public float AttnLogitSoftcapping { get; private set; }

    /// <summary>tanh(z/c)·c on the final logits (0: off).</summary>
    public float FinalLogitSoftcapping { get; private set; }

    /// <summary>Per layer: the sliding window (keys a query sees, itself included), or 0 for full attention.</summary>
    public IReadOnlyList<int> LayerWindows { get; private set; } = [];

    /// <summary>Per layer: true when the layer applies RoPE (SmolLM3's NoPE layers do not).</summary>
    public IReadOnlyList<bool> LayerUsesRope { get; private set; } = [];

    /// <summary>Per layer: true when the layer uses the local RoPE (Gemma 3's sliding layers: default RoPE with rope_local_base_freq).</summary>
    public IReadOnlyList<bool> LayerUsesLocalRope { get; private set; } = [];

    public double RopeTheta { get; private set; }
    public string RopeType { get; private set; } = "default";
    public RopeScalingParameters? RopeScaling { get; private set; }
    public double PartialRotaryFactor { get; private set; } = 1.0;
    public int? OriginalMaxPositionEmbeddings { get; private set; }
    public double? RopeLocalBaseFreq { get; private set; }

    public int? PadTokenId { get; private set; }
    public int? BosTokenId { get; private set; }

    /// <summary>eos_token_id (an int or a list in config.json).</summary>
    public IReadOnlyList<int> EosTokenIds { get; private set; } = [];

    int? IModelConfig.MaxSequenceLength => MaxPositionEmbeddings;

    public int QueryWidth => NumAttentionHeads * HeadDim;
    public int KeyValueWidth => NumKeyValueHeads * HeadDim;

    /// <summary>Parses config.json text; errors name <paramref name="source"/> and the key.</summary>
    public static DecoderConfig Parse(string json, string source)
    {
        JsonObject obj;
        try
        {
            var options = new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false };
            using (var check = JsonDocument.Parse(json, options))
                if (Text.JsonStrings.FindInvalid(check.RootElement) is { } bad)
                    throw new CheckpointFormatException(source, bad, "holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");
            obj = JsonNode.Parse(json, documentOptions: options) as JsonObject
                  ?? throw new CheckpointFormatException(source, null, "a config must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(source, null, $"not valid JSON: {e.Message}", e);
        }
        var c = new DecoderConfig(obj, source);
        c.Resolve();
        return c;
    }

    /// <summary>A config from key/value pairs (presets), resolved as if read from a file.</summary>
    public static DecoderConfig FromKeys(string modelType, IReadOnlyDictionary<string, object?> keys)
    {
        var obj = new JsonObject { ["model_type"] = modelType };
        foreach (var (k, v) in keys) obj[k] = JsonSerializer.SerializeToNode(v);
        var c = new DecoderConfig(obj, $"preset ({modelType})");
        c.Resolve();
        return c;
    }

    // ---------------------------------------------------------------- resolution, family by family

    private void Resolve()
    {
        string mt = Str("model_type") ?? throw Error("model_type", "is missing");
        if (!ModelTypeNames.Contains(mt)) throw Error("model_type", $"\"{mt}\" is not a decoder-only type DroSharp reads ({string.Join(", ", ModelTypeNames)})");
        ModelType = mt;
        bool gemma = mt is "gemma" or "gemma2" or "gemma3_text";
        RefuseUnsupported();

        VocabSize = Int("vocab_size") ?? mt switch
        {
            "llama" or "mistral" => 32000, "qwen2" or "qwen3" => 151936, "smollm3" => 128256, "phi3" => 32064,
            "gemma" or "gemma2" => 256000, _ => 262208,
        };
        HiddenSize = Int("hidden_size") ?? Default(4096, 4096, 4096, 4096, 2048, 3072, 3072, 2304, 2304);
        IntermediateSize = Int("intermediate_size") ?? Default(11008, 14336, 22016, 22016, 11008, 8192, 24576, 9216, 9216);
        NumHiddenLayers = Int("num_hidden_layers") ?? Default(32, 32, 32, 32, 36, 32, 28, 26, 26);
        NumAttentionHeads = Int("num_attention_heads") ?? Default(32, 32, 32, 32, 16, 32, 16, 8, 8);
        NumKeyValueHeads = Int("num_key_value_heads") ?? (mt is "gemma2" or "gemma3_text" ? 4 : mt is "mistral" ? 8 : mt is "smollm3" ? 4 : NumAttentionHeads);
        int? headDim = Int("head_dim");
        HeadDim = headDim ?? (mt is "qwen3" ? 128 : gemma ? 256 : HiddenSize / Positive(NumAttentionHeads, "num_attention_heads"));
        MaxPositionEmbeddings = Int("max_position_embeddings") ?? Default(2048, 131072, 32768, 32768, 32768, 4096, 8192, 8192, 131072);
        RmsNormEps = Dbl("rms_norm_eps") ?? (mt is "llama" ? 1e-6 : mt is "phi3" ? 1e-5 : 1e-6);
        InitializerRange = Dbl("initializer_range") ?? 0.02;
        TieWordEmbeddings = Bool("tie_word_embeddings") ?? (gemma || mt is "smollm3");

        HiddenAct = mt is "gemma2" or "gemma3_text"
            ? Str("hidden_activation") ?? "gelu_pytorch_tanh"
            : Str("hidden_act") ?? (mt is "gemma" ? "gelu_pytorch_tanh" : "silu");
        if (!Activations.Contains(HiddenAct))
            throw Error(mt is "gemma2" or "gemma3_text" ? "hidden_activation" : "hidden_act", $"activation \"{HiddenAct}\" is not implemented (supported: {string.Join(", ", Activations)})");

        bool attentionBias = Bool("attention_bias") ?? false;
        (QkvBias, OutputBias) = mt switch
        {
            "qwen2" => (true, false),
            "llama" or "qwen3" or "smollm3" or "gemma" or "gemma2" or "gemma3_text" => (attentionBias, attentionBias),
            _ => (false, false),
        };
        MlpBias = mt is "llama" or "smollm3" && (Bool("mlp_bias") ?? false);
        QkNorm = mt is "qwen3" or "gemma3_text";
        FusedProjections = mt is "phi3";
        NormPlusOne = gemma;
        SandwichNorms = mt is "gemma2" or "gemma3_text";
        EmbeddingScale = gemma ? (float)Math.Sqrt(HiddenSize) : 1f;
        if (mt is "gemma2" or "gemma3_text")
        {
            double q = Dbl("query_pre_attn_scalar") ?? 256;
            if (!(q > 0)) throw Error("query_pre_attn_scalar", $"must be positive, not {q}");
            AttentionScale = (float)Math.Pow(q, -0.5);
            AttnLogitSoftcapping = (float)(Dbl("attn_logit_softcapping") ?? (mt is "gemma2" ? 50.0 : 0.0));
            FinalLogitSoftcapping = (float)(Dbl("final_logit_softcapping") ?? (mt is "gemma2" ? 30.0 : 0.0));
        }
        else
        {
            AttentionScale = (float)Math.Pow(HeadDim, -0.5);
        }

        ResolveLayers(mt);
        ResolveRope(mt);

        PadTokenId = Int("pad_token_id");
        BosTokenId = Int("bos_token_id");
        EosTokenIds = IntOrList("eos_token_id");

        Validate();

        int Default(int llama, int mistral, int qwen2, int qwen3, int smollm3, int phi3, int gemma, int gemma2, int gemma3) => mt switch
        {
            "llama" => llama, "mistral" => mistral, "qwen2" => qwen2, "qwen3" => qwen3, "smollm3" => smollm3, "phi3" => phi3,
            "gemma" => gemma, "gemma2" => gemma2, _ => gemma3,
        };
    }

    /// <summary>Sliding windows, NoPE and local-RoPE layers, as each family's config and attention derive them.</summary>
    private void ResolveLayers(string mt)
    {
        int n = Positive(NumHiddenLayers, "num_hidden_layers");
        int? window = Int("sliding_window");
        var types = StrList("layer_types");
        if (types is not null)
        {
            if (types.Count != n) throw Error("layer_types", $"has {types.Count} entries for {n} layers");
            foreach (var t in types)
                if (t is not ("full_attention" or "sliding_attention"))
                    throw Error("layer_types", $"layer type \"{t}\" is not implemented (full_attention and sliding_attention are)");
        }

        var uses = new bool[n];
        Array.Fill(uses, true);
        if (mt is "smollm3")
        {
            // no_rope_layers[i] = 1: layer i uses RoPE (the name is transformers'); default: every interval-th layer is NoPE.
            var flags = IntList("no_rope_layers");
            int interval = Int("no_rope_layer_interval") ?? 4;
            if (flags is not null && flags.Count != n) throw Error("no_rope_layers", $"has {flags.Count} entries for {n} layers");
            for (int i = 0; i < n; i++) uses[i] = flags is not null ? flags[i] != 0 : (i + 1) % Positive(interval, "no_rope_layer_interval") != 0;
        }
        LayerUsesRope = uses;

        var windows = new int[n];
        switch (mt)
        {
            case "mistral":
            case "phi3":
                // Every layer slides when sliding_window is set; MistralConfig's default is 4096 (an explicit null: none).
                if (mt is "mistral" && !_json.ContainsKey("sliding_window")) window = 4096;
                if (window is int w) Array.Fill(windows, Positive(w, "sliding_window"));
                break;
            case "qwen2":
            case "qwen3":
            {
                bool use = Bool("use_sliding_window") ?? false;
                int maxWindowLayers = Int("max_window_layers") ?? 28;
                int? effective = use ? window ?? 4096 : null;
                for (int i = 0; i < n; i++)
                {
                    bool sliding = types is not null ? types[i] == "sliding_attention" : effective is not null && i >= maxWindowLayers;
                    windows[i] = sliding && effective is int ew ? Positive(ew, "sliding_window") : 0;
                }
                break;
            }
            case "smollm3":
            {
                bool use = Bool("use_sliding_window") ?? false;
                for (int i = 0; i < n; i++)
                {
                    bool sliding = types is not null ? types[i] == "sliding_attention" : use && window is not null && !uses[i];
                    windows[i] = sliding && window is int ew ? Positive(ew, "sliding_window") : 0;
                }
                break;
            }
            case "gemma2":
            case "gemma3_text":
            {
                int pattern = mt is "gemma2" ? 2 : Int("sliding_window_pattern") ?? 6;
                int w2 = window ?? 4096;
                for (int i = 0; i < n; i++)
                {
                    bool sliding = types is not null ? types[i] == "sliding_attention" : (i + 1) % Positive(pattern, "sliding_window_pattern") != 0;
                    windows[i] = sliding ? Positive(w2, "sliding_window") : 0;
                }
                break;
            }
            default:
                if (types is not null && types.Contains("sliding_attention"))
                    throw Error("layer_types", $"{mt} has no sliding-window attention");
                break;
        }
        LayerWindows = windows;
        LayerUsesLocalRope = mt is "gemma3_text" ? windows.Select(x => x > 0).ToArray() : new bool[n];
    }

    private void ResolveRope(string mt)
    {
        RopeTheta = Dbl("rope_theta") ?? mt switch { "smollm3" => 2_000_000.0, "gemma3_text" => 1_000_000.0, _ => 10000.0 };
        PartialRotaryFactor = mt is "phi3" ? Dbl("partial_rotary_factor") ?? 1.0 : 1.0;
        OriginalMaxPositionEmbeddings = mt is "phi3" ? Int("original_max_position_embeddings") ?? 4096 : null;
        RopeLocalBaseFreq = mt is "gemma3_text" ? Dbl("rope_local_base_freq") ?? 10000.0 : null;
        RopeType = "default";
        RopeScaling = null;
        if (_json["rope_scaling"] is not JsonObject rs) return;
        string? type = rs["rope_type"]?.GetValue<string>() ?? rs["type"]?.GetValue<string>();
        if (type is null) throw Error("rope_scaling", "has neither rope_type nor type");
        if (type == "su" || (mt is "phi3" && type == "yarn")) type = "longrope"; // Phi3Config's _rope_scaling_adjustment
        if (!RopeTypes.Contains(type)) throw Error("rope_scaling.rope_type", $"\"{type}\" is not implemented (supported: {string.Join(", ", RopeTypes)})");
        foreach (var (k, _) in rs)
            if (k is "mrope_section" or "mrope_interleaved") throw Error("rope_scaling." + k, "multimodal RoPE is not implemented");
        RopeType = type;
        RopeScaling = new RopeScalingParameters
        {
            Factor = Num(rs, "factor"),
            LowFreqFactor = Num(rs, "low_freq_factor"),
            HighFreqFactor = Num(rs, "high_freq_factor"),
            OriginalMaxPositionEmbeddings = (int?)Num(rs, "original_max_position_embeddings"),
            AttentionFactor = Num(rs, "attention_factor"),
            BetaFast = Num(rs, "beta_fast"),
            BetaSlow = Num(rs, "beta_slow"),
            Mscale = Num(rs, "mscale"),
            MscaleAllDim = Num(rs, "mscale_all_dim"),
            Truncate = rs["truncate"] is JsonValue tv && tv.TryGetValue(out bool tb) ? tb : null,
            ShortFactor = Nums(rs, "short_factor"),
            LongFactor = Nums(rs, "long_factor"),
        };
        // Compute once now so a bad combination (a missing factor) is refused when the config is read.
        try { Frequencies(local: false, MaxPositionEmbeddings); }
        catch (ArgumentException e) { throw Error("rope_scaling", e.Message); }
    }

    /// <summary>Keys the modeling code reads whose values DroSharp does not implement.</summary>
    private void RefuseUnsupported()
    {
        if (_json.ContainsKey("quantization_config") && _json["quantization_config"] is not null)
            throw Error("quantization_config", "quantised checkpoints are not supported; give float32, float16 or bfloat16 weights");
        if (Bool("use_bidirectional_attention") == true) throw Error("use_bidirectional_attention", "bidirectional attention is not implemented");
        if (_json["attention_chunk_size"] is JsonValue) throw Error("attention_chunk_size", "chunked attention is not implemented");
        if (Int("pretraining_tp") is int tp && tp > 1 && ModelType == "llama")
        {
            // transformers 4.55 ignores pretraining_tp in the forward pass: same numerics, accepted.
        }
    }

    /// <summary>The RoPE frequencies of a global (or Gemma 3 local) layer for a sequence of <paramref name="sequenceLength"/> positions.</summary>
    public RopeFrequencies Frequencies(bool local, int sequenceLength) => local
        ? RopeFrequencies.Compute("default", RopeLocalBaseFreq ?? RopeTheta, HeadDim, 1.0, MaxPositionEmbeddings, null, null, sequenceLength)
        : RopeFrequencies.Compute(RopeType, RopeTheta, HeadDim, PartialRotaryFactor, MaxPositionEmbeddings, RopeScaling, OriginalMaxPositionEmbeddings, sequenceLength);

    /// <summary>True when the RoPE angles depend on the sequence length (dynamic, longrope).</summary>
    public bool RopeDependsOnLength => RopeType is "dynamic" or "longrope";

    // ---------------------------------------------------------------- checks

    private void Validate()
    {
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(IntermediateSize, "intermediate_size");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(NumKeyValueHeads, "num_key_value_heads");
        Positive(HeadDim, "head_dim");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw Error("num_key_value_heads", $"{NumKeyValueHeads} does not divide num_attention_heads {NumAttentionHeads}");
        if (!(RmsNormEps > 0)) throw Error("rms_norm_eps", $"must be positive, not {RmsNormEps}");
        if (!(RopeTheta > 0)) throw Error("rope_theta", $"must be positive, not {RopeTheta}");
        int rotary = (int)(HeadDim * PartialRotaryFactor);
        if (rotary < 2 || rotary % 2 != 0) throw Error("partial_rotary_factor", $"head_dim {HeadDim} × {PartialRotaryFactor} = {rotary} rotary dimensions; must be even and ≥ 2");
        foreach (var (key, id) in new[] { ("pad_token_id", PadTokenId), ("bos_token_id", BosTokenId) })
            if (id is int v && (v < 0 || v >= VocabSize)) throw Error(key, $"{v} is outside the vocabulary of {VocabSize}");
        foreach (int e in EosTokenIds)
            if (e < 0 || e >= VocabSize) throw Error("eos_token_id", $"{e} is outside the vocabulary of {VocabSize}");
        long parameters = ParameterCount();
        if (parameters > 20_000_000_000L) throw Error("hidden_size", $"the model would have {parameters:N0} parameters; more than DroSharp can hold on a CPU");
    }

    /// <summary>Parameters of the policy (embedding, layers, norm, untied head).</summary>
    public long ParameterCount()
    {
        long h = HiddenSize, perLayer = h * QueryWidth + 2 * h * KeyValueWidth + QueryWidth * h + 3 * h * IntermediateSize + (SandwichNorms ? 4 : 2) * h;
        return VocabSize * h * (TieWordEmbeddings ? 1 : 2) + NumHiddenLayers * perLayer + h;
    }

    /// <summary>The embedding [vocab, hidden] or an MLP projection [intermediate, hidden], whichever is larger.</summary>
    public long LargestTensorElements => Math.Max((long)VocabSize * HiddenSize, (long)HiddenSize * IntermediateSize);

    // ---------------------------------------------------------------- IModelConfig

    public void UseTokenizer(TokenizerIds ids)
    {
        Set("vocab_size", ids.VocabSize);
        if (ids.PadId is int pad) Set("pad_token_id", pad);
        if (ids.BosId is int bos) Set("bos_token_id", bos);
        if (ids.EosId is int eos) Set("eos_token_id", eos);
        Resolve();
    }

    private void Set(string key, int value) => _json[key] = value;

    /// <summary>config.json text: keys sorted, 2-space indent, trailing newline (as transformers writes it).</summary>
    public string ToJson()
    {
        var sorted = new JsonObject();
        foreach (var (k, v) in _json.OrderBy(kv => kv.Key, StringComparer.Ordinal)) sorted[k] = v?.DeepClone();
        if (!sorted.ContainsKey("architectures")) sorted["architectures"] = new JsonArray(ArchitectureName(ModelType));
        string text = sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        return text.Replace("\r\n", "\n") + "\n";
    }

    public void Save(string path)
    {
        string json = ToJson();
        AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>Writes config.json with <c>torch_dtype</c> set to the dtype of the weights written beside it.</summary>
    public void SaveAs(string path, string torchDtype)
    {
        var saved = new DecoderConfig((JsonObject)_json.DeepClone(), Source);
        saved._json["torch_dtype"] = torchDtype;
        saved.Resolve();
        saved.Save(path);
    }

    /// <summary>transformers' class for the causal LM of a model type.</summary>
    public static string ArchitectureName(string modelType) => modelType switch
    {
        "llama" => "LlamaForCausalLM", "mistral" => "MistralForCausalLM", "qwen2" => "Qwen2ForCausalLM", "qwen3" => "Qwen3ForCausalLM",
        "smollm3" => "SmolLM3ForCausalLM", "phi3" => "Phi3ForCausalLM", "gemma" => "GemmaForCausalLM", "gemma2" => "Gemma2ForCausalLM",
        _ => "Gemma3ForCausalLM",
    };

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{ModelType}: {NumHiddenLayers} layers, hidden {HiddenSize}, {NumAttentionHeads} heads ({NumKeyValueHeads} key/value) × {HeadDim}, MLP {IntermediateSize}, vocab {VocabSize}{(TieWordEmbeddings ? ", tied" : "")}");

    // ---------------------------------------------------------------- typed access with errors naming the key

    private CheckpointFormatException Error(string key, string message) => new(Source, key, message);

    private int Positive(int v, string key) => v > 0 ? v : throw Error(key, $"must be positive, not {v}");

    private JsonNode? Get(string key) => _json.TryGetPropertyValue(key, out var v) ? v : null;

    private int? Int(string key)
    {
        if (Get(key) is not JsonValue v) return Get(key) is null ? null : throw Bad(key, "an integer");
        if (v.TryGetValue(out int i)) return i;
        if (v.TryGetValue(out double d) && double.IsInteger(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        throw Bad(key, "an integer");
    }

    private double? Dbl(string key)
    {
        if (Get(key) is not JsonValue v) return Get(key) is null ? null : throw Bad(key, "a number");
        if (v.TryGetValue(out double d) && double.IsFinite(d)) return d;
        throw Bad(key, "a number");
    }

    private bool? Bool(string key)
    {
        if (Get(key) is not JsonValue v) return Get(key) is null ? null : throw Bad(key, "true or false");
        return v.TryGetValue(out bool b) ? b : throw Bad(key, "true or false");
    }

    private string? Str(string key)
    {
        if (Get(key) is not JsonValue v) return Get(key) is null ? null : throw Bad(key, "a string");
        return v.TryGetValue(out string? s) ? s : throw Bad(key, "a string");
    }

    private List<string>? StrList(string key)
    {
        if (Get(key) is null) return null;
        if (Get(key) is not JsonArray a) throw Bad(key, "a list of strings");
        return a.Select(x => x is JsonValue v && v.TryGetValue(out string? s) ? s : throw Bad(key, "a list of strings")).ToList();
    }

    private List<int>? IntList(string key)
    {
        if (Get(key) is null) return null;
        if (Get(key) is not JsonArray a) throw Bad(key, "a list of integers");
        return a.Select(x => x is JsonValue v && v.TryGetValue(out int i) ? i : throw Bad(key, "a list of integers")).ToList();
    }

    private List<int> IntOrList(string key) => Get(key) switch
    {
        null => [],
        JsonArray => IntList(key)!,
        _ => [Int(key)!.Value],
    };

    private double? Num(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out double d) && double.IsFinite(d) => d,
        _ => throw Bad("rope_scaling." + key, "a number"),
    };

    private double[]? Nums(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonArray a => a.Select(x => x is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) ? d : throw Bad("rope_scaling." + key, "a list of numbers")).ToArray(),
        _ => throw Bad("rope_scaling." + key, "a list of numbers"),
    };

    private CheckpointFormatException Bad(string key, string expected)
    {
        string found = Get(key)?.ToJsonString() ?? "null";
        if (found.Length > 60) found = found[..57] + "...";
        return Error(key, $"expected {expected}, found {found}");
    }
}
