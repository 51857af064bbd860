using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Text;

namespace DroSharp.Models.Decoder;

/// <summary>
/// The decoder-only family: one implementation with the switches of llama, mistral, qwen2, qwen3,
/// smollm3, phi3, gemma, gemma2 and gemma3_text (<see cref="DecoderConfig"/>).
/// </summary>
public sealed class DecoderFamily : IModelFamily
{
    public static DecoderFamily Instance { get; } = new();

    private DecoderFamily() { }

    public string Name => "decoder";

    public IReadOnlyList<string> ModelTypes => DecoderConfig.ModelTypeNames;

    public IReadOnlyList<string> PresetNames => DecoderPresets.Names;

    public IModelConfig ParseConfig(string json, string source) => DecoderConfig.Parse(json, source);

    public IModelConfig CreatePreset(string name, int? vocabSize = null) => DecoderPresets.Get(name, vocabSize);

    public IPolicyModel CreatePolicy(IModelConfig config) => new DecoderForCausalLM(AsDecoder(config));

    public IPolicyModel LoadPolicy(string directory, IModelConfig config) => DecoderModelFiles.Load(directory, AsDecoder(config));

    public IValueModel CreateValueModel(IPolicyModel policy, ValueModelKind kind, DeterministicRandom rng)
    {
        var p = policy as DecoderForCausalLM ?? throw new ArgumentException($"a decoder value model needs a decoder policy, not {policy.GetType().Name}");
        return kind switch
        {
            ValueModelKind.OwnBackbone => DecoderValueModel.FromPolicy(p, rng),
            ValueModelKind.Scalar => new ScalarValueModel(p.Config),
            ValueModelKind.SharedBackbone => new SharedBackboneValueModel(p.Config, rng, p.Config.InitializerRange),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown value model kind"),
        };
    }

    public SharedBaseValue CreateValueModelOnBase(IPolicyModel policy, DeterministicRandom rng)
    {
        var p = policy as DecoderForCausalLM ?? throw new ArgumentException($"a decoder value model needs a decoder policy, not {policy.GetType().Name}");
        // The value runs the whole backbone; every Linear of the causal LM is in it (the LM head is not a Linear).
        return new SharedBaseValue(DecoderValueModel.OnBackbone(p, rng), p.Parameters.Linears);
    }

    public string PeftTaskType => "CAUSAL_LM";

    /// <summary>
    /// The special ids of a model without its directory's tokenizer files: EOS = the config's first
    /// eos_token_id (else generation_config's), stop ids = generation_config's and the config's eos ids,
    /// pad = pad_token_id, else the EOS (TRL's convention when a tokenizer has no pad token).
    /// </summary>
    public static SpecialTokens DefaultTokens(DecoderConfig config, JsonObject? generationConfig) =>
        Tokens(config, generationConfig, tokenizerEos: null, tokenizerPad: null);

    /// <summary>
    /// As <see cref="DefaultTokens"/>, with the directory's tokenizer: the EOS a completion ends with is
    /// the tokenizer's eos_token (tokenizer_config.json), as TRL appends <c>tokenizer.eos_token_id</c>; a
    /// missing pad_token_id falls back to the tokenizer's pad token.
    /// </summary>
    public static SpecialTokens TokensFor(string directory, DecoderConfig config, JsonObject? generationConfig)
    {
        int? eos = null, pad = null;
        string tokenizerPath = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerPath))
        {
            try
            {
                var tokenizer = Tokenizer.FromFile(tokenizerPath);
                string configPath = Path.Combine(directory, "tokenizer_config.json");
                if (File.Exists(configPath) && JsonNode.Parse(File.ReadAllText(configPath, Encoding.UTF8)) is JsonObject tc)
                {
                    eos = TokenString(tc["eos_token"]) is { } e ? tokenizer.TokenToId(e) : null;
                    pad = TokenString(tc["pad_token"]) is { } p ? tokenizer.TokenToId(p) : null;
                }
                eos ??= tokenizer.EosId;
                pad ??= tokenizer.PadId;
            }
            catch (Exception ex) when (ex is FormatException or JsonException or IOException)
            {
                throw new CheckpointFormatException(tokenizerPath, null, ex.Message, ex);
            }
        }
        return Tokens(config, generationConfig, eos is int ev && ev < config.VocabSize ? ev : null, pad is int pv && pv < config.VocabSize ? pv : null);
    }

    private static SpecialTokens Tokens(DecoderConfig config, JsonObject? generationConfig, int? tokenizerEos, int? tokenizerPad)
    {
        var generationEos = generationConfig?["eos_token_id"] switch
        {
            JsonArray a => a.Select(x => x?.GetValue<int>() ?? -1).Where(x => x >= 0).ToList(),
            JsonValue v when v.TryGetValue(out int i) => [i],
            _ => new List<int>(),
        };
        int eos = tokenizerEos ?? config.EosTokenIds.Cast<int?>().FirstOrDefault() ?? generationEos.Cast<int?>().FirstOrDefault()
            ?? throw new CheckpointFormatException(config.Source, "eos_token_id",
                "is missing (also from generation_config.json and the tokenizer): a decoder-only model needs an end-of-sequence id to end completions");
        var stops = new List<int> { eos };
        foreach (int id in generationEos.Concat(config.EosTokenIds)) if (!stops.Contains(id)) stops.Add(id);
        int pad = config.PadTokenId ?? tokenizerPad ?? eos;
        return new SpecialTokens(pad, eos, stops, config.BosTokenId, AppendEosToCompletion: true);
    }

    private static string? TokenString(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        _ => null,
    };

    private static DecoderConfig AsDecoder(IModelConfig config) =>
        config as DecoderConfig ?? throw new ArgumentException($"the decoder family cannot build a model from a {config.GetType().Name}");
}
