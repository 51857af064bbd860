using System.Security.Cryptography;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// A content hash of what defines a model directory's numerics: config.json and the weight files
/// (model.safetensors, or the shard index and every shard), each by name and bytes. Cached values
/// (reference log-probs) and resumed runs are bound to it, so an edited config or retrained weights
/// are noticed even when the path is the same.
/// </summary>
public static class ModelDirectoryHash
{
    /// <summary>SHA-256 (hex) of the directory's config and weights.</summary>
    public static string Compute(string directory)
    {
        var files = new List<string> { ModelFamilies.ConfigPath(directory) };
        string single = Path.Combine(directory, CheckpointDirectory.SingleFileName);
        string index = Path.Combine(directory, ShardedCheckpointIndex.FileName);
        if (File.Exists(single)) files.Add(single);
        else if (File.Exists(index))
        {
            files.Add(index);
            foreach (var shard in ShardedCheckpointIndex.Load(index).ShardFiles.Order(StringComparer.Ordinal))
                files.Add(Path.Combine(directory, shard));
        }
        else throw new FileNotFoundException($"{directory} has no model.safetensors or {ShardedCheckpointIndex.FileName}", single);

        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var f in files)
        {
            h.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(f) + "\n"));
            using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            int n;
            while ((n = s.Read(buffer, 0, buffer.Length)) > 0) h.AppendData(buffer, 0, n);
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }
}
