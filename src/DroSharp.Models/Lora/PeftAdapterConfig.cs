using System.Globalization;
using System.Text;
using System.Text.Json;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Models.Lora;

/// <summary>
/// PEFT's <c>adapter_config.json</c> of a LoRA adapter: what DroSharp reads and writes of it. Written
/// with every key of PEFT 0.18.1's <c>LoraConfig</c> (sorted, 2-space indent, ASCII-escaped, no final
/// newline: <c>json.dumps(output_dict, indent=2, sort_keys=True)</c>), the keys DroSharp does not use
/// at their PEFT defaults; <c>inference_mode</c> true as <c>save_pretrained</c> writes it. Read back
/// from any PEFT version: options that change the numerics and that DroSharp does not implement
/// (DoRA, bias, rank or alpha patterns, fan_in_fan_out, …) are refused by key.
/// </summary>
public sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    /// <summary>The PEFT release whose <c>LoraConfig</c> keys are written (<c>peft_version</c>).</summary>
    public const string WrittenPeftVersion = "0.18.1";

    /// <summary>r.</summary>
    public required int Rank { get; init; }

    /// <summary>lora_alpha.</summary>
    public required double Alpha { get; init; }

    /// <summary>lora_dropout.</summary>
    public double Dropout { get; init; }

    public bool UseRsLora { get; init; }

    /// <summary>target_modules as PEFT saves them (after expanding <c>all-linear</c>: the modules' last name components).</summary>
    public required IReadOnlyList<string> TargetModules { get; init; }

    /// <summary>The base model (DroSharp writes the absolute path of its directory), or null.</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>task_type: <c>CAUSAL_LM</c>, <c>SEQ_2_SEQ_LM</c>, or null (a value adapter).</summary>
    public string? TaskType { get; init; }

    /// <summary>modules_to_save (whole modules stored beside the adapter, e.g. <c>value_head</c>), or null.</summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    /// <summary>α/r, or α/√r with rsLoRA.</summary>
    public double Scale => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Reads <c>DIR/adapter_config.json</c>.</summary>
    public static PeftAdapterConfig Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no {FileName}: not a PEFT adapter directory", path);
        return Parse(File.ReadAllText(path, Encoding.UTF8), path);
    }

    /// <summary>Parses an adapter_config.json text; <paramref name="source"/> names it in errors.</summary>
    public static PeftAdapterConfig Parse(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException e) { throw new CheckpointFormatException(source, null, $"not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CheckpointFormatException(source, null, $"an adapter config must be a JSON object, found {root.ValueKind}");
            string? peftType = String(root, "peft_type", source);
            if (peftType != "LORA") throw new CheckpointFormatException(source, "peft_type", $"is {(peftType is null ? "missing" : $"\"{peftType}\"")}; DroSharp loads LoRA adapters (\"LORA\") only");
            int rank = root.TryGetProperty("r", out var r) && r.ValueKind == JsonValueKind.Number && r.TryGetInt32(out int rv) ? rv : 8;
            if (root.TryGetProperty("r", out r) && !(r.ValueKind == JsonValueKind.Number && r.TryGetInt32(out _)))
                throw new CheckpointFormatException(source, "r", $"must be an integer, not {r.GetRawText()}");
            if (rank < 1) throw new CheckpointFormatException(source, "r", $"must be at least 1, not {rank}");
            double alpha = Number(root, "lora_alpha", source) ?? 8;
            if (!(alpha > 0) || double.IsInfinity(alpha)) throw new CheckpointFormatException(source, "lora_alpha", $"must be a positive number, not {alpha}");
            double dropout = Number(root, "lora_dropout", source) ?? 0;
            if (!(dropout >= 0 && dropout < 1)) throw new CheckpointFormatException(source, "lora_dropout", $"must be in [0, 1), not {dropout}");
            string bias = String(root, "bias", source) ?? "none";
            if (bias != "none") throw new CheckpointFormatException(source, "bias", $"is \"{bias}\"; DroSharp's LoRA trains no biases (\"none\")");
            RequireFalse(root, "use_dora", "DoRA is not implemented", source);
            RequireFalse(root, "lora_bias", "a LoRA bias is not implemented", source);
            RequireFalse(root, "fan_in_fan_out", "fan_in_fan_out (GPT-2 Conv1D weights) does not apply to DroSharp's models", source);
            RequireFalse(root, "use_qalora", "QA-LoRA is not implemented", source);
            RequireEmpty(root, "rank_pattern", "per-module ranks are not implemented", source);
            RequireEmpty(root, "alpha_pattern", "per-module alphas are not implemented", source);
            RequireEmpty(root, "layer_replication", "layer replication is not implemented", source);
            RequireEmpty(root, "trainable_token_indices", "trainable token indices are not implemented", source);
            RequireEmpty(root, "target_parameters", "LoRA on parameters (not modules) is not implemented", source);
            bool rslora = root.TryGetProperty("use_rslora", out var rs) && rs.ValueKind == JsonValueKind.True;
            var targets = root.TryGetProperty("target_modules", out var tm) ? tm.ValueKind switch
            {
                JsonValueKind.Array => tm.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()!
                    : throw new CheckpointFormatException(source, "target_modules", $"must hold strings, not {e.GetRawText()}")).ToList(),
                JsonValueKind.String => [tm.GetString()!],
                JsonValueKind.Null => new List<string>(),
                _ => throw new CheckpointFormatException(source, "target_modules", $"must be a list of names or a pattern, not {tm.ValueKind}"),
            } : new List<string>();
            List<string>? modulesToSave = null;
            if (root.TryGetProperty("modules_to_save", out var ms) && ms.ValueKind == JsonValueKind.Array)
                modulesToSave = ms.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()!
                    : throw new CheckpointFormatException(source, "modules_to_save", $"must hold strings, not {e.GetRawText()}")).ToList();
            return new PeftAdapterConfig
            {
                Rank = rank, Alpha = alpha, Dropout = dropout, UseRsLora = rslora, TargetModules = targets,
                BaseModelNameOrPath = String(root, "base_model_name_or_path", source), TaskType = String(root, "task_type", source),
                ModulesToSave = modulesToSave,
            };
        }
    }

    /// <summary>The file text as PEFT 0.18.1's <c>save_pretrained</c> writes it.</summary>
    public string ToJson()
    {
        var keys = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["alora_invocation_tokens"] = "null",
            ["alpha_pattern"] = "{}",
            ["arrow_config"] = "null",
            ["auto_mapping"] = "null",
            ["base_model_name_or_path"] = BaseModelNameOrPath is null ? "null" : PythonString(BaseModelNameOrPath),
            ["bias"] = PythonString("none"),
            ["corda_config"] = "null",
            ["ensure_weight_tying"] = "false",
            ["eva_config"] = "null",
            ["exclude_modules"] = "null",
            ["fan_in_fan_out"] = "false",
            ["inference_mode"] = "true",
            ["init_lora_weights"] = "true",
            ["layer_replication"] = "null",
            ["layers_pattern"] = "null",
            ["layers_to_transform"] = "null",
            ["loftq_config"] = "{}",
            ["lora_alpha"] = PythonNumber(Alpha, integerIfWhole: true),
            ["lora_bias"] = "false",
            ["lora_dropout"] = PythonNumber(Dropout, integerIfWhole: false),
            ["megatron_config"] = "null",
            ["megatron_core"] = PythonString("megatron.core"),
            ["modules_to_save"] = ModulesToSave is null ? "null" : PythonList(ModulesToSave),
            ["peft_type"] = PythonString("LORA"),
            ["peft_version"] = PythonString(WrittenPeftVersion),
            ["qalora_group_size"] = "16",
            ["r"] = Rank.ToString(CultureInfo.InvariantCulture),
            ["rank_pattern"] = "{}",
            ["revision"] = "null",
            ["target_modules"] = PythonList(TargetModules),
            ["target_parameters"] = "null",
            ["task_type"] = TaskType is null ? "null" : PythonString(TaskType),
            ["trainable_token_indices"] = "null",
            ["use_dora"] = "false",
            ["use_qalora"] = "false",
            ["use_rslora"] = UseRsLora ? "true" : "false",
        };
        var sb = new StringBuilder("{\n");
        int i = 0;
        foreach (var (k, v) in keys)
            sb.Append("  ").Append(PythonString(k)).Append(": ").Append(v).Append(++i < keys.Count ? ",\n" : "\n");
        return sb.Append('}').ToString();
    }

    /// <summary>Writes <c>DIR/adapter_config.json</c> atomically.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), ToJson());
    }

    private static string PythonList(IReadOnlyList<string> items) =>
        items.Count == 0 ? "[]" : "[\n" + string.Join(",\n", items.Select(s => "    " + PythonString(s))) + "\n  ]";

    /// <summary>Python's json.dumps of a str with ensure_ascii: \" \\ \n \r \t \b \f, other controls and non-ASCII as \uXXXX.</summary>
    internal static string PythonString(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Python's repr of a number: an int when whole and asked for, else a float (<c>0.0</c>, <c>0.05</c>, <c>1e-05</c>).</summary>
    internal static string PythonNumber(double x, bool integerIfWhole)
    {
        if (integerIfWhole && x == Math.Floor(x) && Math.Abs(x) < 1e15) return ((long)x).ToString(CultureInfo.InvariantCulture);
        string r = x.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E'))
        {
            // .NET "1E-05" → Python "1e-05"; the exponent keeps at least two digits.
            var parts = r.Split('E');
            int e = int.Parse(parts[1], CultureInfo.InvariantCulture);
            if (e >= -4 && e < 16) return double.Parse(r, CultureInfo.InvariantCulture).ToString("0.0################", CultureInfo.InvariantCulture);
            return parts[0] + "e" + (e < 0 ? "-" : "+") + Math.Abs(e).ToString("00", CultureInfo.InvariantCulture);
        }
        return r.Contains('.') ? r : r + ".0";
    }

    private static string? String(JsonElement root, string key, string source)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new CheckpointFormatException(source, key, $"must be a string, not {v.GetRawText()}");
    }

    private static double? Number(JsonElement root, string key, string source)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new CheckpointFormatException(source, key, $"must be a number, not {v.GetRawText()}");
    }

    private static void RequireFalse(JsonElement root, string key, string why, string source)
    {
        if (root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True) throw new CheckpointFormatException(source, key, $"is true; {why}");
    }

    private static void RequireEmpty(JsonElement root, string key, string why, string source)
    {
        if (!root.TryGetProperty(key, out var v)) return;
        bool empty = v.ValueKind switch
        {
            JsonValueKind.Null => true,
            JsonValueKind.Object => !v.EnumerateObject().Any(),
            JsonValueKind.Array => v.GetArrayLength() == 0,
            _ => false,
        };
        if (!empty) throw new CheckpointFormatException(source, key, $"is {v.GetRawText()}; {why}");
    }
}
