namespace DroSharp.Models.Gguf;

/// <summary>
/// A model cannot be exported to GGUF: its family, a RoPE kind or a config switch has no faithful
/// representation in llama.cpp, or its files are missing something llama.cpp needs. The message names the
/// file and the config key (or tensor) at fault and what llama.cpp would do instead; both are also properties.
/// </summary>
public sealed class GgufExportException : Exception
{
    public string FilePath { get; }

    /// <summary>The config key, tokenizer field or tensor at fault, or null.</summary>
    public string? Key { get; }

    public GgufExportException(string filePath, string? key, string message)
        : base(key is null ? $"{filePath}: {message}" : $"{filePath}: '{key}': {message}")
    {
        FilePath = filePath;
        Key = key;
    }
}
