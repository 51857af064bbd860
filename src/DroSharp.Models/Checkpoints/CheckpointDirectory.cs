using DroSharp.Tensors;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// A Hugging Face model directory's weights: <c>model.safetensors</c>, or
/// <c>model.safetensors.index.json</c> and its shards (the single file wins when both exist, as in
/// transformers). Other files (README, tokenizer, pytorch_model.bin beside a safetensors file) are
/// ignored. A directory with only pickle/TF/Flax weights is an error: safetensors is required.
/// For a sharded checkpoint every weight_map entry must be in its shard and every shard tensor
/// must be in the weight_map.
/// </summary>
public sealed class CheckpointDirectory : ITensorSource, IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string ConfigFileName = "config.json";

    private static readonly string[] UnsupportedWeightFiles =
    [
        "pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "tf_model.h5.index.json",
        "flax_model.msgpack", "flax_model.msgpack.index.json", "model.ckpt.index",
    ];

    private readonly List<SafetensorsReader> _files;
    private readonly Dictionary<string, SafetensorsReader> _owner;
    private readonly string[] _names;

    private CheckpointDirectory(string directory, List<SafetensorsReader> files, Dictionary<string, SafetensorsReader> owner,
        string[] names, ShardedCheckpointIndex? index)
    {
        DirectoryPath = directory;
        _files = files;
        _owner = owner;
        _names = names;
        Index = index;
    }

    public string DirectoryPath { get; }

    public string Location => DirectoryPath;

    /// <summary>The shard index, or null for a single-file checkpoint.</summary>
    public ShardedCheckpointIndex? Index { get; }

    public bool IsSharded => Index is not null;

    /// <summary>The open safetensors files (one, or one per shard).</summary>
    public IReadOnlyList<SafetensorsReader> Files => _files;

    public string ConfigPath => Path.Combine(DirectoryPath, ConfigFileName);

    public IReadOnlyList<string> TensorNames => _names;

    /// <summary>True when <paramref name="directory"/> holds <c>model.safetensors</c> or a shard index.</summary>
    public static bool HasSafetensorsWeights(string directory) =>
        File.Exists(Path.Combine(directory, SingleFileName)) || File.Exists(Path.Combine(directory, ShardedCheckpointIndex.FileName));

    public static CheckpointDirectory Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such model directory");

        string single = Path.Combine(directory, SingleFileName);
        if (File.Exists(single))
        {
            var reader = SafetensorsReader.Open(single);
            var owner = reader.TensorNames.ToDictionary(n => n, _ => reader, StringComparer.Ordinal);
            return new CheckpointDirectory(directory, [reader], owner, reader.TensorNames.ToArray(), null);
        }

        string indexPath = Path.Combine(directory, ShardedCheckpointIndex.FileName);
        if (File.Exists(indexPath)) return OpenSharded(directory, ShardedCheckpointIndex.Load(indexPath));

        var other = UnsupportedWeightFiles.Where(f => File.Exists(Path.Combine(directory, f))).ToList();
        other.AddRange(Directory.EnumerateFiles(directory, "pytorch_model-*.bin").Select(Path.GetFileName).OfType<string>().Take(1));
        throw new CheckpointFormatException(directory, null, other.Count > 0
            ? $"found only {string.Join(", ", other)}; safetensors weights are required ({SingleFileName} or {ShardedCheckpointIndex.FileName}). " +
              "Pickle checkpoints are not loaded because unpickling can run arbitrary code; convert with transformers: " +
              "AutoModelForSeq2SeqLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)"
            : $"no {SingleFileName} or {ShardedCheckpointIndex.FileName} in the directory");
    }

    private static CheckpointDirectory OpenSharded(string directory, ShardedCheckpointIndex index)
    {
        var files = new List<SafetensorsReader>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
            foreach (string shard in index.ShardFiles)
            {
                string path = Path.Combine(directory, shard);
                if (!File.Exists(path))
                {
                    string first = index.WeightMap.First(kv => kv.Value == shard).Key;
                    throw new CheckpointFormatException(index.FilePath, first, $"its shard {shard} does not exist in {directory}");
                }
                var reader = SafetensorsReader.Open(path);
                files.Add(reader);
                byShard.Add(shard, reader);
            }

            var owner = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
            foreach (var (name, shard) in index.WeightMap)
            {
                var reader = byShard[shard];
                if (!reader.Contains(name))
                    throw new CheckpointFormatException(index.FilePath, name, $"the weight_map puts it in {shard}, which has no such tensor");
                owner.Add(name, reader);
            }
            foreach (var reader in files)
                foreach (string name in reader.TensorNames)
                    if (!owner.TryGetValue(name, out var mapped) || mapped != reader)
                        throw new CheckpointFormatException(reader.FilePath, name, mapped is null
                            ? $"the tensor is not listed in {ShardedCheckpointIndex.FileName}"
                            : $"the tensor is also in {Path.GetFileName(mapped.FilePath)}, where the index puts it");

            var names = files.SelectMany(f => f.TensorNames).ToArray();
            return new CheckpointDirectory(directory, files, owner, names, index);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _owner.ContainsKey(name);

    public bool TryGetInfo(string name, out SafetensorsTensorInfo info)
    {
        if (_owner.TryGetValue(name, out var reader)) return reader.TryGetInfo(name, out info);
        info = null!;
        return false;
    }

    public SafetensorsTensorInfo GetInfo(string name) => Owner(name).GetInfo(name);

    public Tensor ReadTensor(string name) => Owner(name).ReadTensor(name);

    public void ReadInto(string name, Tensor destination) => Owner(name).ReadInto(name, destination);

    private SafetensorsReader Owner(string name) =>
        _owner.TryGetValue(name, out var r) ? r : throw new CheckpointFormatException(DirectoryPath, name, "no such tensor in the checkpoint");

    /// <summary>
    /// Writes <paramref name="tensors"/> (names set) as <c>directory/model.safetensors</c>, atomically.
    /// Write <c>config.json</c> beside it with <c>T5Config.Save</c>.
    /// </summary>
    public static void SaveWeights(string directory, IEnumerable<Tensor> tensors, SafetensorsDtype dtype = SafetensorsDtype.F32,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Save(Path.Combine(directory, SingleFileName), tensors, dtype, metadata);
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
