namespace DroSharp.Models.Gguf;

/// <summary>Options of <see cref="GgufExporter.Export(string, string, GgufExportOptions?)"/>.</summary>
public sealed class GgufExportOptions
{
    /// <summary>How weight matrices are stored (F32 by default).</summary>
    public GgufFileType FileType { get; init; } = GgufFileType.F32;

    /// <summary>Where tokenizer.json, tokenizer_config.json and the chat template are read; the model directory when null.</summary>
    public string? TokenizerDirectory { get; init; }

    /// <summary>
    /// llama.cpp's pre-tokenizer name (<c>tokenizer.ggml.pre</c>: "llama-bpe", "qwen2", "gpt-2", "smollm", …) for a
    /// byte-level BPE tokenizer whose pre-tokenizer the exporter does not recognise; null to recognise it.
    /// </summary>
    public string? TokenizerPre { get; init; }

    /// <summary><c>general.name</c>; the model directory's name when null.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Test seam: false skips the q/k row permutation that llama.cpp's "llama" architecture needs, to show that a
    /// file without it loads but computes wrong numbers. Never false in real use.
    /// </summary>
    internal bool PermuteQueryKey { get; init; } = true;
}
