using System.Globalization;
using DroSharp.Models;
using DroSharp.Models.Decoder;
using DroSharp.Models.T5;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// The family and shape of the arena's model. The vocabulary comes from the word-level tokenizer trained on the task.
/// <list type="bullet">
/// <item><c>t5</c>: a T5 v1.1 (gated-GELU, untied head, dropout off) with <see cref="EncoderLayers"/> +
/// <see cref="DecoderLayers"/> layers.</item>
/// <item><c>llama</c>: a Llama-family decoder-only model (RMSNorm, RoPE, SiLU-gated MLP, untied head, full
/// multi-head attention) with <see cref="DecoderLayers"/> layers and no encoder (<see cref="EncoderLayers"/> = 0).
/// Its tokenizer follows Llama's conventions: BOS in front of every prompt, EOS at the end of every completion.</item>
/// </list>
/// </summary>
public sealed record ModelSize
{
    public const string T5 = "t5";
    public const string Llama = "llama";

    /// <summary>The families the arena builds.</summary>
    public static IReadOnlyList<string> Families { get; } = [T5, Llama];

    /// <summary><see cref="T5"/> or <see cref="Llama"/>.</summary>
    public string Family { get; init; } = T5;

    public int DModel { get; init; } = 64;
    public int DFf { get; init; } = 128;
    public int DKv { get; init; } = 16;
    public int Heads { get; init; } = 4;
    public int EncoderLayers { get; init; } = 2;
    public int DecoderLayers { get; init; } = 2;

    /// <summary>Positions a Llama model is built for; prompts and completions of the arena's tasks are far shorter.</summary>
    public const int LlamaMaxPositions = 128;

    public bool IsDecoderOnly => Family == Llama;

    /// <summary>
    /// A Llama of the same width as <paramref name="t5"/> with the number of layers whose parameter count (without
    /// embeddings) is closest to the T5's: a T5 encoder layer has 4·d·h·d_kv + 3·d·d_ff weights in its matrices, a
    /// decoder layer 8·d·h·d_kv + 3·d·d_ff (cross-attention), a Llama layer 4·d·h·d_kv + 3·d·d_ff.
    /// </summary>
    public static ModelSize LlamaMatching(ModelSize t5)
    {
        ArgumentNullException.ThrowIfNull(t5);
        if (t5.Family != T5) throw new ArgumentException($"expected a T5 size, got {t5.Family}", nameof(t5));
        long attention = 4L * t5.DModel * t5.Heads * t5.DKv, feedForward = 3L * t5.DModel * t5.DFf;
        long t5Weights = t5.EncoderLayers * (attention + feedForward) + t5.DecoderLayers * (2 * attention + feedForward);
        int layers = (int)Math.Max(1, Math.Round(t5Weights / (double)(attention + feedForward)));
        return t5 with { Family = Llama, EncoderLayers = 0, DecoderLayers = layers };
    }

    /// <summary>The model's config.json, with the tokenizer's vocabulary size and special ids.</summary>
    public IModelConfig ToConfig(TokenizerIds tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Validate();
        if (Family == T5)
        {
            int pad = tokenizer.PadId ?? 0;
            var config = new T5Config
            {
                VocabSize = tokenizer.VocabSize, DModel = DModel, DFf = DFf, DKv = DKv, NumHeads = Heads,
                NumLayers = EncoderLayers, NumDecoderLayers = DecoderLayers,
                RelativeAttentionNumBuckets = 32, RelativeAttentionMaxDistance = 128,
                FeedForwardProj = "gated-gelu", TieWordEmbeddings = false, DropoutRate = 0.0,
                PadTokenId = pad, EosTokenId = tokenizer.EosId ?? 1, DecoderStartTokenId = pad,
                Architectures = ["T5ForConditionalGeneration"],
            };
            config.Validate();
            return config;
        }
        if (tokenizer.BosId is null) throw new ArgumentException("a Llama model needs a tokenizer with a BOS token (Llama's conventions)");
        var keys = new Dictionary<string, object?>
        {
            ["vocab_size"] = tokenizer.VocabSize, ["hidden_size"] = DModel, ["intermediate_size"] = DFf, ["num_hidden_layers"] = DecoderLayers,
            ["num_attention_heads"] = Heads, ["num_key_value_heads"] = Heads, ["head_dim"] = DKv, ["max_position_embeddings"] = LlamaMaxPositions,
            ["rms_norm_eps"] = 1e-6, ["initializer_range"] = 0.02, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false,
            ["hidden_act"] = "silu", ["attention_bias"] = false, ["mlp_bias"] = false,
            ["bos_token_id"] = tokenizer.BosId, ["eos_token_id"] = tokenizer.EosId ?? 1, ["pad_token_id"] = tokenizer.PadId ?? 0,
        };
        return DecoderConfig.FromKeys("llama", keys);
    }

    public void Validate()
    {
        if (!Families.Contains(Family)) throw new ArgumentException($"model family must be {string.Join(" or ", Families)}, not '{Family}'");
        if (DModel < 4 || DFf < 4 || DKv < 1 || Heads < 1 || DecoderLayers < 1)
            throw new ArgumentException($"model size {this}: every dimension must be positive (d_model, d_ff ≥ 4)");
        if (Family == T5 && EncoderLayers < 1) throw new ArgumentException($"model size {this}: a T5 needs at least one encoder layer");
        if (Family == Llama && EncoderLayers != 0) throw new ArgumentException($"model size {this}: a Llama model has no encoder layers");
        if (Family == Llama && DKv % 2 != 0) throw new ArgumentException($"model size {this}: RoPE needs an even head dimension");
    }

    public override string ToString() => Family == T5
        ? string.Create(CultureInfo.InvariantCulture, $"T5 d_model {DModel}, d_ff {DFf}, {Heads} heads × d_kv {DKv}, {EncoderLayers}+{DecoderLayers} layers")
        : string.Create(CultureInfo.InvariantCulture, $"Llama hidden {DModel}, intermediate {DFf}, {Heads} heads × head_dim {DKv}, {DecoderLayers} layers");
}
