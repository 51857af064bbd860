using System.CommandLine;
using System.Globalization;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Gguf;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro export gguf --model DIR --out FILE.gguf --type f32|f16|bf16|q8_0</c>: a decoder-only model directory
/// (e.g. <c>RUN/final</c>) as a GGUF file for llama.cpp / LLamaSharp, written atomically (<see cref="GgufExporter"/>).
/// A model llama.cpp cannot represent faithfully is refused with one line naming the config key.
/// </summary>
public static class ExportGgufCommand
{
    /// <summary>The <c>--type</c> values, as llama.cpp's tools spell them.</summary>
    public static readonly IReadOnlyDictionary<string, GgufFileType> FileTypes = new Dictionary<string, GgufFileType>(StringComparer.OrdinalIgnoreCase)
    {
        ["f32"] = GgufFileType.F32,
        ["f16"] = GgufFileType.F16,
        ["bf16"] = GgufFileType.BF16,
        ["q8_0"] = GgufFileType.Q8_0,
    };

    /// <summary>PEFT's file in a LoRA adapter directory.</summary>
    public const string AdapterConfigFileName = "adapter_config.json";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "HF decoder-only model directory (config.json, safetensors weights, tokenizer.json), e.g. RUN/final.", Required = true };
        var output = new Option<string>("--out") { Description = "The GGUF file to write (atomically).", Required = true };
        var type = new Option<string>("--type")
        {
            Description = "How weight matrices are stored: f32 (exact), f16, bf16 or q8_0 (8-bit blocks of 32; ~3.8x smaller than f32). Norms and biases stay f32.",
            DefaultValueFactory = _ => "f32",
        };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Directory with tokenizer.json, tokenizer_config.json and the chat template, when not the model directory." };
        var pre = new Option<string?>("--tokenizer-pre")
        {
            Description = $"llama.cpp's pre-tokenizer name (tokenizer.ggml.pre) for a byte-level BPE tokenizer whose pre-tokenizer is not recognised ({string.Join(", ", GgufExporter.KnownPreTokenizers)}, or another name llama.cpp knows).",
        };
        var name = new Option<string?>("--name") { Description = "general.name in the file (default: the model directory's name; the run's name for RUN/final)." };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var cmd = new Command("gguf", "Export a decoder-only model (llama, mistral, qwen2, qwen3, phi3, gemma, gemma2, gemma3_text, smollm3) to a GGUF file for llama.cpp / LLamaSharp.");
        foreach (var o in new Option[] { model, output, type, tokenizer, pre, name, force }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!, outPath = parse.GetValue(output)!, typeName = parse.GetValue(type)!;
            if (!FileTypes.TryGetValue(typeName, out var fileType))
                throw new UserErrorException($"--type '{typeName}': expected one of {string.Join(", ", FileTypes.Keys)}");
            CheckModelDirectory(dir);
            CheckOutput(outPath, parse.GetValue(force));
            // A LoRA adapter (RUN/final of a --lora run) is merged into its base in a temporary directory, which is exported.
            string? merged = null;
            string name0 = DefaultName(dir);
            if (File.Exists(Path.Combine(dir, AdapterConfigFileName)))
            {
                merged = Path.Combine(Path.GetTempPath(), "dro-export-merged-" + Guid.NewGuid().ToString("N"));
                var (baseDir, modules) = Models.Lora.LoraMerge.Merge(dir, null, merged);
                Console.WriteLine($"merged the adapter into {baseDir} ({modules} modules) for export");
                dir = merged;
            }
            try
            {
            string? tokDir = parse.GetValue(tokenizer);
            if (tokDir is not null && !Directory.Exists(tokDir)) throw new UserErrorException($"--tokenizer: directory {tokDir} does not exist");
            if (!File.Exists(Path.Combine(tokDir ?? dir, "tokenizer.json")))
                throw new UserErrorException(tokDir is null
                    ? $"{dir} has no tokenizer.json, and llama.cpp needs the vocabulary in the GGUF file: pass --tokenizer DIR (a directory with tokenizer.json and tokenizer_config.json)"
                    : $"--tokenizer {tokDir} has no tokenizer.json");
            var options = new GgufExportOptions { FileType = fileType, TokenizerDirectory = tokDir, TokenizerPre = parse.GetValue(pre), Name = parse.GetValue(name) ?? name0 };
            GgufExportResult result;
            try
            {
                result = GgufExporter.Export(dir, outPath, options);
            }
            catch (GgufExportException e)
            {
                throw new UserErrorException(e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                throw new UserErrorException($"export to {outPath} failed: {e.Message}");
            }
            foreach (string line in Describe(result)) Console.WriteLine(line);
            return 0;
            }
            finally
            {
                if (merged is not null && Directory.Exists(merged)) Directory.Delete(merged, recursive: true);
            }
        });
        return cmd;
    }

    /// <summary>What was written, one fact a line.</summary>
    public static IEnumerable<string> Describe(GgufExportResult r)
    {
        string type = FileTypes.First(kv => kv.Value == r.FileType).Key;
        yield return string.Create(CultureInfo.InvariantCulture, $"wrote {r.OutputPath} ({r.FileBytes:N0} bytes, {r.FileBytes / 1048576.0:F1} MiB)");
        yield return $"architecture: {r.Architecture}";
        yield return $"type: {type}" + (r.FileType == GgufFileType.F32 ? "" : " (weight matrices; norms and biases f32)");
        yield return $"tensors: {r.TensorCount}" + (r.TiedEmbeddings ? " (output head tied to token_embd)" : "");
        yield return $"tokenizer: {r.TokenizerModel}" + (r.TokenizerPre is null ? "" : $", pre-tokenizer {r.TokenizerPre}");
        yield return $"chat template: {(r.HasChatTemplate ? "yes" : "no")}";
    }

    /// <summary>general.name: the model directory's name, or the run's for RUN/final.</summary>
    private static string DefaultName(string dir)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        string name = Path.GetFileName(full);
        return name == "final" && Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } run ? run : name;
    }

    private static void CheckModelDirectory(string dir)
    {
        if (File.Exists(dir)) throw new UserErrorException($"--model {dir} is a file; give the model directory (config.json, model.safetensors)");
        if (!Directory.Exists(dir)) throw new UserErrorException($"--model: directory {dir} does not exist");
        if (File.Exists(Path.Combine(dir, AdapterConfigFileName))) return; // merged into its base first (see the action)
        if (!File.Exists(Path.Combine(dir, CheckpointDirectory.ConfigFileName)))
        {
            string final = Path.Combine(dir, "final");
            throw new UserErrorException(File.Exists(Path.Combine(final, CheckpointDirectory.ConfigFileName))
                ? $"{dir} has no config.json; it looks like a run directory: export its model, --model {final}"
                : $"{dir} has no config.json: not a Hugging Face model directory");
        }
    }

    private static void CheckOutput(string outPath, bool force)
    {
        if (Directory.Exists(outPath)) throw new UserErrorException($"--out {outPath} is a directory; give the .gguf file to write");
        if (File.Exists(outPath) && !force) throw new UserErrorException($"--out {outPath} exists; pass --force to replace it");
    }
}
