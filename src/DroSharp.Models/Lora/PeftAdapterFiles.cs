using System.Text.RegularExpressions;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;

namespace DroSharp.Models.Lora;

/// <summary>
/// A PEFT adapter directory: <c>adapter_config.json</c> (<see cref="PeftAdapterConfig"/>) and
/// <c>adapter_model.safetensors</c>, whose tensors are named as PEFT's <c>get_peft_model_state_dict</c>
/// names them: <c>base_model.model.{module}.lora_A.weight</c> [r, in] and <c>….lora_B.weight</c>
/// [out, r] (no adapter name), and a whole module listed in <c>modules_to_save</c> as
/// <c>base_model.model.{module}.{parameter}</c> (e.g. <c>base_model.model.value_head.weight</c>).
/// In memory an adapter's tensors are named <c>{module}.lora_A.{adapter}.weight</c> (see
/// <see cref="Tensors.Modules.Linear.AddAdapter"/>); other parameters keep their names.
/// </summary>
public static partial class PeftAdapterFiles
{
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The prefix of every saved key: PEFT's <c>PeftModel.base_model</c> (the tuner) and its <c>model</c>.</summary>
    public const string KeyPrefix = "base_model.model.";

    /// <summary>True when <paramref name="directory"/> holds an <c>adapter_config.json</c>.</summary>
    public static bool IsAdapterDirectory(string directory) =>
        Directory.Exists(directory) && File.Exists(Path.Combine(directory, PeftAdapterConfig.FileName));

    /// <summary>The saved key of an in-memory parameter name.</summary>
    public static string SavedKey(string parameterName)
    {
        var m = AdapterTensorName().Match(parameterName);
        return m.Success ? $"{KeyPrefix}{m.Groups[1].Value}.lora_{m.Groups[2].Value}.weight" : KeyPrefix + parameterName;
    }

    /// <summary>Writes the config and every parameter of <paramref name="parameters"/> (float32) under its saved key, each file atomically.</summary>
    public static void Save(string directory, PeftAdapterConfig config, ParameterSet parameters)
    {
        Directory.CreateDirectory(directory);
        var writer = new SafetensorsWriter();
        foreach (var p in parameters.All) writer.Add(SavedKey(p.Name!), p);
        writer.Write(Path.Combine(directory, WeightsFileName));
        config.Save(directory);
    }

    /// <summary>
    /// Reads every parameter of <paramref name="parameters"/> from its saved key. Names and shapes are
    /// checked before anything is read: a missing or extra tensor, or a shape mismatch, is an error
    /// naming the file and key, and leaves the parameters untouched.
    /// </summary>
    public static void LoadInto(string directory, ParameterSet parameters)
    {
        using var reader = OpenWeights(directory);
        var plan = new List<(string Key, Tensor Parameter)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in parameters.All)
        {
            string key = SavedKey(p.Name!);
            if (!reader.TryGetInfo(key, out var info))
                throw new CheckpointFormatException(reader.FilePath, key, $"is missing: the model's parameter {p.Name} is stored under this name");
            if (!info.ShapeEquals(p.Shape))
                throw new CheckpointFormatException(reader.FilePath, key, $"shape {info.ShapeString} in the file, but parameter {p.Name} has shape {p.Shape} (a different rank or base model?)");
            if (!info.Dtype.IsReadableAsFloat32())
                throw new CheckpointFormatException(reader.FilePath, key, $"dtype {info.Dtype} cannot be read into a float32 parameter");
            plan.Add((key, p));
            used.Add(key);
        }
        var extra = reader.TensorNames.Where(n => !used.Contains(n)).ToList();
        if (extra.Count > 0)
            throw new CheckpointFormatException(reader.FilePath, extra[0], $"{extra.Count} tensor(s) match no parameter of the model");
        foreach (var (key, p) in plan) reader.ReadInto(key, p);
    }

    /// <summary>Opens <c>DIR/adapter_model.safetensors</c> (a pickled <c>adapter_model.bin</c> is refused).</summary>
    public static SafetensorsReader OpenWeights(string directory)
    {
        string path = Path.Combine(directory, WeightsFileName);
        if (File.Exists(path)) return SafetensorsReader.Open(path);
        if (File.Exists(Path.Combine(directory, "adapter_model.bin")))
            throw new CheckpointFormatException(directory, null,
                "found only adapter_model.bin; safetensors adapters are required (pickle files are not loaded because unpickling can run arbitrary code): " +
                "save with PeftModel.save_pretrained(dir, safe_serialization=True)");
        throw new CheckpointFormatException(directory, null, $"no {WeightsFileName} in the adapter directory");
    }

    /// <summary>
    /// The adapted modules of a saved adapter: module path → (lora_A key, lora_B key), from the file's
    /// keys; other keys (modules_to_save) are returned apart. A lora_A without its lora_B (or the
    /// reverse), or a key of another PEFT method, is an error.
    /// </summary>
    public static (IReadOnlyDictionary<string, (string A, string B)> Modules, IReadOnlyList<string> OtherKeys) ReadLayout(SafetensorsReader reader)
    {
        var a = new Dictionary<string, string>(StringComparer.Ordinal);
        var b = new Dictionary<string, string>(StringComparer.Ordinal);
        var other = new List<string>();
        foreach (string key in reader.TensorNames)
        {
            var m = SavedAdapterKey().Match(key);
            if (m.Success) (m.Groups[2].Value == "A" ? a : b)[m.Groups[1].Value] = key;
            else if (key.Contains(".lora_", StringComparison.Ordinal))
                throw new CheckpointFormatException(reader.FilePath, key, "is not a lora_A/lora_B weight of a Linear module (embedding or other LoRA variants are not supported)");
            else if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal))
                throw new CheckpointFormatException(reader.FilePath, key, $"does not start with {KeyPrefix} as PEFT saves keys");
            else other.Add(key);
        }
        foreach (var m in a.Keys.Where(k => !b.ContainsKey(k)))
            throw new CheckpointFormatException(reader.FilePath, a[m], "has no lora_B beside it");
        foreach (var m in b.Keys.Where(k => !a.ContainsKey(k)))
            throw new CheckpointFormatException(reader.FilePath, b[m], "has no lora_A beside it");
        return (a.Keys.Order(StringComparer.Ordinal).ToDictionary(k => k, k => (a[k], b[k]), StringComparer.Ordinal), other);
    }

    [GeneratedRegex(@"^(.+)\.lora_([AB])\.([^.]+)\.weight$")]
    private static partial Regex AdapterTensorName();

    [GeneratedRegex(@"^base_model\.model\.(.+)\.lora_([AB])\.weight$")]
    private static partial Regex SavedAdapterKey();
}
