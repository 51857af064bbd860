using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.Decoder;

/// <summary>
/// Hugging Face directories of decoder-only models: config.json, model.safetensors (or a sharded index;
/// float32, float16 or bfloat16), generation_config.json. A tied model's stored <c>lm_head.weight</c> is
/// ignored, as transformers ties it to the embedding.
/// </summary>
public static class DecoderModelFiles
{
    public const string GenerationConfigFileName = "generation_config.json";

    public static DecoderForCausalLM Load(string directory, DecoderConfig config)
    {
        var generation = ReadGenerationConfig(directory);
        var model = new DecoderForCausalLM(config, DecoderFamily.TokensFor(directory, config, generation), generation);
        try
        {
            StateDictLoader.Load(directory, model.Parameters.All, LoadOptions(config));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>What the loader tolerates for this config: a tied model's stored lm_head.</summary>
    public static StateDictLoadOptions LoadOptions(DecoderConfig config) => new()
    {
        IgnoredKeys = config.TieWordEmbeddings
            ? new Dictionary<string, string> { ["lm_head.weight"] = "tied LM head: the model uses model.embed_tokens.weight (tie_word_embeddings)" }
            : new Dictionary<string, string>(),
    };

    public static JsonObject? ReadGenerationConfig(string directory)
    {
        string path = Path.Combine(directory, GenerationConfigFileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path, Encoding.UTF8)) as JsonObject
                   ?? throw new CheckpointFormatException(path, null, "generation_config.json must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, null, $"not valid JSON: {e.Message}", e);
        }
    }

    public static void Save(DecoderForCausalLM model, string directory)
    {
        Directory.CreateDirectory(directory);
        CheckpointDirectory.SaveWeights(directory, model.Parameters.All, SafetensorsDtype.F32);
        model.Config.SaveAs(Path.Combine(directory, CheckpointDirectory.ConfigFileName), torchDtype: "float32");
        var generation = model.GenerationConfig?.DeepClone() as JsonObject ?? new JsonObject();
        if (model.Config.BosTokenId is int bos) generation["bos_token_id"] ??= bos;
        if (!generation.ContainsKey("eos_token_id"))
            generation["eos_token_id"] = model.Tokens.StopIds.Count == 1 ? model.Tokens.StopIds[0] : new JsonArray(model.Tokens.StopIds.Select(i => (JsonNode?)i).ToArray());
        if (model.Config.PadTokenId is int pad) generation["pad_token_id"] ??= pad;
        string text = generation.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        AtomicFile.WriteAllText(Path.Combine(directory, GenerationConfigFileName), text);
    }
}
