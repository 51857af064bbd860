using System.Text;
using System.Text.Json;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.T5;

namespace DroSharp.Models;

/// <summary>
/// The registry of model families: from a <c>model_type</c>, a model directory or a preset name to
/// the family that handles it. The one place that lists the families.
/// </summary>
public static class ModelFamilies
{
    /// <summary>Every family, in the order presets are listed.</summary>
    public static IReadOnlyList<IModelFamily> All { get; } = [T5Family.Instance, Decoder.DecoderFamily.Instance];

    /// <summary>Every <c>model_type</c> DroSharp reads.</summary>
    public static IReadOnlyList<string> ModelTypes => All.SelectMany(f => f.ModelTypes).ToList();

    /// <summary>Every preset name of every family.</summary>
    public static IReadOnlyList<string> PresetNames => All.SelectMany(f => f.PresetNames).ToList();

    /// <summary>The family that reads <paramref name="modelType"/>; <paramref name="source"/> names the config in the error.</summary>
    public static IModelFamily ForModelType(string modelType, string source)
    {
        foreach (var f in All)
            if (f.ModelTypes.Contains(modelType, StringComparer.Ordinal)) return f;
        throw new CheckpointFormatException(source, "model_type",
            $"\"{modelType}\" is not a model type DroSharp supports (supported: {string.Join(", ", ModelTypes)})");
    }

    /// <summary>The family owning preset <paramref name="name"/>, or null.</summary>
    public static IModelFamily? ForPreset(string name) => All.FirstOrDefault(f => f.PresetNames.Contains(name, StringComparer.Ordinal));

    /// <summary>A preset's family and config.</summary>
    public static (IModelFamily Family, IModelConfig Config) Preset(string name, int? vocabSize = null)
    {
        var family = ForPreset(name) ?? throw new ArgumentException($"unknown preset \"{name}\"; known presets: {string.Join(", ", PresetNames)}");
        return (family, family.CreatePreset(name, vocabSize));
    }

    /// <summary>Parses config.json text with the family its <c>model_type</c> names.</summary>
    public static (IModelFamily Family, IModelConfig Config) ParseConfig(string json, string source)
    {
        string modelType;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(source, null, $"a config must be a JSON object, found {doc.RootElement.ValueKind}");
            if (Text.JsonStrings.FindInvalid(doc.RootElement) is { } bad)
                throw new CheckpointFormatException(source, bad, "holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");
            if (!doc.RootElement.TryGetProperty("model_type", out var mt) || mt.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(source, "model_type", "is missing or not a string; a Hugging Face config.json names its model type");
            modelType = mt.GetString()!;
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(source, null, $"not valid JSON: {e.Message}", e);
        }
        var family = ForModelType(modelType, source);
        return (family, family.ParseConfig(json, source));
    }

    /// <summary>Reads <c>DIR/config.json</c>.</summary>
    public static (IModelFamily Family, IModelConfig Config) LoadConfig(string directory)
    {
        string path = ConfigPath(directory);
        return ParseConfig(File.ReadAllText(path, Encoding.UTF8), path);
    }

    /// <summary>
    /// Loads the policy of an HF model directory (config.json + safetensors weights), or of a PEFT LoRA
    /// adapter directory (adapter_config.json): its base with the adapter (<see cref="Lora.LoraPolicyModel.Load"/>).
    /// </summary>
    public static IPolicyModel LoadPolicy(string directory)
    {
        if (Lora.PeftAdapterFiles.IsAdapterDirectory(directory)) return Lora.LoraPolicyModel.Load(directory);
        var (family, config) = LoadConfig(directory);
        return family.LoadPolicy(directory, config);
    }

    /// <summary>DIR/config.json, with clear errors for a missing directory, a file given as a directory, or no config.</summary>
    public static string ConfigPath(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (File.Exists(directory))
            throw new DirectoryNotFoundException($"{directory} is a file; a model is a directory holding config.json and model.safetensors");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"model directory {directory} does not exist");
        string path = Path.Combine(directory, CheckpointDirectory.ConfigFileName);
        if (!File.Exists(path))
            throw new FileNotFoundException(Lora.PeftAdapterFiles.IsAdapterDirectory(directory)
                ? $"{directory} is a LoRA adapter directory (adapter_config.json), not a full model; merge it into its base first: dro merge --adapter {directory} --out DIR"
                : $"{directory} has no config.json: not a Hugging Face model directory", path);
        return path;
    }
}
