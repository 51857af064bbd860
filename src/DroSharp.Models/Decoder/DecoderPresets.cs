namespace DroSharp.Models.Decoder;

/// <summary>
/// Named decoder-only configurations. <c>&lt;family&gt;-tiny</c>: 2-layer models of each family with its
/// quirks switched on (vocabulary 512 unless a tokenizer replaces it) for tests and demos. The
/// published shapes (<c>smollm2-135m</c>, <c>qwen2.5-0.5b</c>, <c>qwen3-0.6b</c>, <c>llama-3.2-1b</c>) are
/// the checkpoints' config.json values (architecture only; weights are random), as the PyTorch peer
/// <c>decoder_peer.py</c> builds them, for benchmarks.
/// </summary>
public static class DecoderPresets
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "llama-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny", "smollm3-tiny", "phi3-tiny", "gemma2-tiny", "gemma3-tiny",
        "smollm2-135m", "qwen2.5-0.5b", "qwen3-0.6b", "llama-3.2-1b",
    ];

    public static DecoderConfig Get(string name, int? vocabSize = null)
    {
        var (type, keys) = Keys(name);
        if (vocabSize is int v) keys["vocab_size"] = v;
        return DecoderConfig.FromKeys(type, keys);
    }

    private static Dictionary<string, object?> Tiny(params (string Key, object? Value)[] extra)
    {
        var d = new Dictionary<string, object?>
        {
            ["vocab_size"] = 512, ["hidden_size"] = 64, ["intermediate_size"] = 128, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["head_dim"] = 16, ["max_position_embeddings"] = 2048,
            ["rms_norm_eps"] = 1e-6, ["initializer_range"] = 0.02, ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["pad_token_id"] = 0,
        };
        foreach (var (k, v) in extra)
        {
            if (v is null) d.Remove(k); // the family's own default (e.g. Phi-3's head_dim = hidden / heads)
            else d[k] = v;
        }
        return d;
    }

    private static (string Type, Dictionary<string, object?> Keys) Keys(string name) => name switch
    {
        "llama-tiny" => ("llama", Tiny(("tie_word_embeddings", false), ("rope_theta", 10000.0))),
        "mistral-tiny" => ("mistral", Tiny(("sliding_window", 64), ("tie_word_embeddings", false))),
        "qwen2-tiny" => ("qwen2", Tiny(("tie_word_embeddings", true), ("rope_theta", 1000000.0))),
        "qwen3-tiny" => ("qwen3", Tiny(("tie_word_embeddings", true), ("rope_theta", 1000000.0))),
        "smollm3-tiny" => ("smollm3", Tiny(("num_hidden_layers", 4), ("no_rope_layer_interval", 4), ("tie_word_embeddings", true))),
        "phi3-tiny" => ("phi3", Tiny(("head_dim", null), ("partial_rotary_factor", 0.75), ("original_max_position_embeddings", 2048), ("tie_word_embeddings", false))),
        "gemma2-tiny" => ("gemma2", Tiny(("query_pre_attn_scalar", 16), ("sliding_window", 64), ("attn_logit_softcapping", 50.0), ("final_logit_softcapping", 30.0))),
        "gemma3-tiny" => ("gemma3_text", Tiny(("query_pre_attn_scalar", 16), ("sliding_window", 64), ("sliding_window_pattern", 2), ("rope_theta", 1000000.0), ("rope_local_base_freq", 10000.0))),
        "smollm2-135m" => ("llama", new Dictionary<string, object?>
        {
            ["vocab_size"] = 49152, ["hidden_size"] = 576, ["intermediate_size"] = 1536, ["num_hidden_layers"] = 30, ["num_attention_heads"] = 9,
            ["num_key_value_heads"] = 3, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 100000.0, ["tie_word_embeddings"] = true,
            ["max_position_embeddings"] = 8192, ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["initializer_range"] = 0.041666666666666664,
        }),
        "qwen2.5-0.5b" => ("qwen2", new Dictionary<string, object?>
        {
            ["vocab_size"] = 151936, ["hidden_size"] = 896, ["intermediate_size"] = 4864, ["num_hidden_layers"] = 24, ["num_attention_heads"] = 14,
            ["num_key_value_heads"] = 2, ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 1000000.0, ["tie_word_embeddings"] = true,
            ["max_position_embeddings"] = 32768, ["use_sliding_window"] = false, ["sliding_window"] = 32768, ["max_window_layers"] = 24,
            ["bos_token_id"] = 151643, ["eos_token_id"] = 151643, ["initializer_range"] = 0.02,
        }),
        "qwen3-0.6b" => ("qwen3", new Dictionary<string, object?>
        {
            ["vocab_size"] = 151936, ["hidden_size"] = 1024, ["intermediate_size"] = 3072, ["num_hidden_layers"] = 28, ["num_attention_heads"] = 16,
            ["num_key_value_heads"] = 8, ["head_dim"] = 128, ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 1000000.0, ["tie_word_embeddings"] = true,
            ["max_position_embeddings"] = 40960, ["use_sliding_window"] = false, ["sliding_window"] = null, ["max_window_layers"] = 28,
            ["bos_token_id"] = 151643, ["eos_token_id"] = 151645, ["initializer_range"] = 0.02,
        }),
        "llama-3.2-1b" => ("llama", new Dictionary<string, object?>
        {
            ["vocab_size"] = 128256, ["hidden_size"] = 2048, ["intermediate_size"] = 8192, ["num_hidden_layers"] = 16, ["num_attention_heads"] = 32,
            ["num_key_value_heads"] = 8, ["head_dim"] = 64, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 500000.0, ["tie_word_embeddings"] = true,
            ["max_position_embeddings"] = 131072, ["bos_token_id"] = 128000, ["eos_token_id"] = 128001, ["initializer_range"] = 0.02,
            ["rope_scaling"] = new Dictionary<string, object> { ["factor"] = 32.0, ["high_freq_factor"] = 4.0, ["low_freq_factor"] = 1.0, ["original_max_position_embeddings"] = 8192, ["rope_type"] = "llama3" },
        }),
        _ => throw new ArgumentException($"unknown decoder preset \"{name}\"; known presets: {string.Join(", ", Names)}"),
    };
}
