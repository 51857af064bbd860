namespace DroSharp.Models.Lora;

/// <summary>
/// Folds a PEFT LoRA adapter into its base and writes a plain Hugging Face model directory
/// (W ← W + scale·B·A for every adapted module, as PEFT's <c>merge_and_unload</c>), float32, which
/// transformers loads as it loads the base. The base's tokenizer and template files are copied.
/// </summary>
public static class LoraMerge
{
    /// <summary>Files of the base directory copied beside the merged weights when present.</summary>
    public static readonly IReadOnlyList<string> CarriedFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model", "chat_template.jinja", "generation_config.json"];

    /// <summary>
    /// Merges <paramref name="adapterDirectory"/> into <paramref name="baseDirectory"/> (or the adapter's
    /// <c>base_model_name_or_path</c>) and writes the result to <paramref name="outDirectory"/>.
    /// Returns the base directory used and the number of merged modules.
    /// </summary>
    public static (string BaseDirectory, int Modules) Merge(string adapterDirectory, string? baseDirectory, string outDirectory)
    {
        using var policy = LoraPolicyModel.Load(adapterDirectory, baseDirectory);
        string outFull = Path.GetFullPath(outDirectory);
        foreach (var dir in new[] { policy.BaseDirectory, Path.GetFullPath(adapterDirectory) })
            if (string.Equals(outFull.TrimEnd(Path.DirectorySeparatorChar), dir.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
                throw new ArgumentException($"the merged model must go to a new directory, not {dir}");
        int n = policy.Adapters.Count;
        foreach (var a in policy.Adapters.ToList()) a.Module.MergeAdapter(a.Name);
        policy.Base.Save(outDirectory);
        foreach (string name in CarriedFiles)
        {
            string src = Path.Combine(policy.BaseDirectory, name), dst = Path.Combine(outDirectory, name);
            if (File.Exists(src) && !File.Exists(dst)) File.Copy(src, dst);
        }
        return (policy.BaseDirectory, n);
    }
}
