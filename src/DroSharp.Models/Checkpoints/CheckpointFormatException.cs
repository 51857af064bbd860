namespace DroSharp.Models.Checkpoints;

/// <summary>
/// A checkpoint file (safetensors, shard index, config.json) is malformed, hostile, or does not
/// fit the model being loaded. The message names the file and, when there is one, the tensor or
/// key at fault; both are also available as properties.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    /// <summary>The file (or directory) the problem was found in.</summary>
    public string FilePath { get; }

    /// <summary>The tensor name or JSON key at fault, or null when the problem concerns the whole file.</summary>
    public string? Key { get; }

    public CheckpointFormatException(string filePath, string? key, string message, Exception? inner = null)
        : base(Format(filePath, key, message), inner)
    {
        FilePath = filePath;
        Key = key;
    }

    private static string Format(string filePath, string? key, string message) =>
        key is null ? $"{filePath}: {message}" : $"{filePath}: '{key}': {message}";
}
