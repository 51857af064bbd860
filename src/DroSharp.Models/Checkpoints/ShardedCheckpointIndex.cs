using System.Text.Json;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// A sharded checkpoint's <c>model.safetensors.index.json</c>:
/// <c>{"metadata": {"total_size": bytes, …}, "weight_map": {tensor name: shard file name}}</c>.
/// Shard names must be plain file names in the index's directory (no paths), as Hugging Face
/// writes them; anything else is rejected so an index cannot point outside its model.
/// </summary>
public sealed class ShardedCheckpointIndex
{
    public const string FileName = "model.safetensors.index.json";

    private ShardedCheckpointIndex(string path, IReadOnlyList<KeyValuePair<string, string>> weightMap, long? totalSize)
    {
        FilePath = path;
        WeightMap = weightMap;
        TotalSize = totalSize;
        ShardFiles = weightMap.Select(kv => kv.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    public string FilePath { get; }

    /// <summary>(tensor name, shard file name) in the index's order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> WeightMap { get; }

    /// <summary>The distinct shard files, sorted (as transformers does).</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    /// <summary><c>metadata.total_size</c> when present (informational; not checked, as in transformers).</summary>
    public long? TotalSize { get; }

    public static ShardedCheckpointIndex Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        // System.Text.Json checks UTF-8 only when a string is read: refuse the whole file up front instead.
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new CheckpointFormatException(path, null, "not valid UTF-8 text");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, null, $"not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, null, $"the index must be a JSON object, found {root.ValueKind}");
            if (Text.JsonStrings.FindInvalid(root) is { } bad)
                throw new CheckpointFormatException(path, bad, "holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");

            long? totalSize = null;
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
            {
                if (meta.ValueKind != JsonValueKind.Object)
                    throw new CheckpointFormatException(path, "metadata", $"must be an object, found {meta.ValueKind}");
                if (meta.TryGetProperty("total_size", out var ts) && ts.ValueKind != JsonValueKind.Null)
                {
                    if (ts.ValueKind != JsonValueKind.Number || !ts.TryGetInt64(out long v) || v < 0)
                        throw new CheckpointFormatException(path, "metadata.total_size", $"must be a non-negative integer, found {ts.GetRawText()}");
                    totalSize = v;
                }
            }

            if (!root.TryGetProperty("weight_map", out var map))
                throw new CheckpointFormatException(path, "weight_map", "the index has no weight_map");
            if (map.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, "weight_map", $"must be an object of tensor name → shard file, found {map.ValueKind}");

            var entries = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in map.EnumerateObject())
            {
                string key = $"weight_map.{prop.Name}";
                if (!seen.Add(prop.Name)) throw new CheckpointFormatException(path, key, "the tensor is listed twice");
                if (prop.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointFormatException(path, key, $"the shard must be a file name string, found {prop.Value.ValueKind}");
                string shard = prop.Value.GetString()!;
                if (!IsPlainFileName(shard))
                    throw new CheckpointFormatException(path, key, $"the shard \"{shard}\" is not a plain file name in the model directory");
                entries.Add(new(prop.Name, shard));
            }
            return new ShardedCheckpointIndex(path, entries, totalSize);
        }
    }

    private static bool IsPlainFileName(string name) =>
        name.Length > 0 && name != "." && name != ".." && !Path.IsPathRooted(name)
        && name.IndexOfAny(['/', '\\', '\0']) < 0 && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0;
}
