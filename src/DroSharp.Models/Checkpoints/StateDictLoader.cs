using DroSharp.Tensors;

namespace DroSharp.Models.Checkpoints;

/// <summary>
/// Copies checkpoint tensors into a model's named parameters (Hugging Face names), resolving
/// T5's tied weights: <c>shared.weight</c>, <c>decoder.embed_tokens.weight</c> and
/// <c>encoder.embed_tokens.weight</c> are one tensor and any of them is accepted (tried in that
/// order, as candle does); when several are stored they must be equal. A stored
/// <c>lm_head.weight</c> is ignored for a tied model (decoder parameters but no lm_head parameter), as transformers ties it
/// to <c>shared.weight</c>. <c>decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight</c>,
/// which old checkpoints carry and T5 never uses, is ignored (transformers'
/// <c>_keys_to_ignore_on_load_unexpected</c>). Names and shapes are all checked before the first
/// tensor is read, so a mismatch leaves the parameters untouched.
/// </summary>
public static class StateDictLoader
{
    /// <summary>The tied embedding's names, in the order they are looked for.</summary>
    public static readonly IReadOnlyList<string> EmbeddingAliases =
        ["shared.weight", "decoder.embed_tokens.weight", "encoder.embed_tokens.weight"];

    public const string LmHeadName = "lm_head.weight";

    /// <summary>Stored by old T5 checkpoints, never used by the model.</summary>
    public const string UnusedCrossAttentionBias = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight";

    public static StateDictLoadReport Load(ITensorSource source, IEnumerable<Tensor> parameters, StateDictLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= new StateDictLoadOptions();

        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            string name = p.Name ?? throw new ArgumentException($"a parameter of shape {p.Shape} has no name", nameof(parameters));
            if (!byName.TryAdd(name, p)) throw new ArgumentException($"two parameters are named {name}", nameof(parameters));
        }

        // Plan: source tensor for each parameter, with shapes checked.
        var loaded = new List<(string Parameter, string Source)>();
        var missing = new List<string>();
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, p) in byName)
        {
            string? from = Candidates(name).FirstOrDefault(c => source.TryGetInfo(c, out _));
            if (from is null)
            {
                missing.Add(name);
                continue;
            }
            source.TryGetInfo(from, out var info);
            if (!info.ShapeEquals(p.Shape))
                throw new CheckpointFormatException(source.Location, from,
                    $"shape {info.ShapeString} in the checkpoint, but parameter {name} has shape {p.Shape} (does config.json match the weights?)");
            if (!info.Dtype.IsReadableAsFloat32())
                throw new CheckpointFormatException(source.Location, from, $"dtype {info.Dtype} cannot be loaded into a float32 parameter");
            loaded.Add((name, from));
            consumed.Add(from);
        }

        string? embedding = loaded.Where(l => EmbeddingAliases.Contains(l.Parameter)).Select(l => l.Source).FirstOrDefault();
        // Only a model with a decoder has an LM head to tie; for an encoder-only model it is just unexpected.
        bool hasDecoder = byName.Keys.Any(k => k.StartsWith("decoder.", StringComparison.Ordinal));
        var ignored = new List<(string Key, string Reason)>();
        var unexpected = new List<string>();
        var aliasesToCompare = new List<string>();
        foreach (string key in source.TensorNames)
        {
            if (consumed.Contains(key)) continue;
            if (embedding is not null && EmbeddingAliases.Contains(key))
            {
                aliasesToCompare.Add(key);
                ignored.Add((key, $"tied alias of {embedding}"));
            }
            else if (key == LmHeadName && embedding is not null && !byName.ContainsKey(LmHeadName) && hasDecoder)
                ignored.Add((key, $"tied LM head: the model uses {embedding} (tie_word_embeddings)"));
            else if (options.IgnoredKeys.TryGetValue(key, out var reason))
                ignored.Add((key, reason));
            else if (key == UnusedCrossAttentionBias)
                ignored.Add((key, "unused by T5 (transformers ignores it on load)"));
            else
                unexpected.Add(key);
        }

        if (missing.Count > 0 && !options.AllowMissing)
            throw new CheckpointFormatException(source.Location, missing[0],
                $"{missing.Count} model parameter(s) are not in the checkpoint: {List(missing)}");
        if (unexpected.Count > 0 && !options.AllowUnexpected)
            throw new CheckpointFormatException(source.Location, unexpected[0],
                $"{unexpected.Count} checkpoint tensor(s) match no model parameter: {List(unexpected)}");

        foreach (var (name, from) in loaded) source.ReadInto(from, byName[name]);

        foreach (string alias in aliasesToCompare)
            CheckTiedCopy(source, alias, loaded.First(l => l.Source == embedding).Parameter, embedding!, byName);

        return new StateDictLoadReport(loaded, missing, unexpected, ignored);
    }

    /// <summary>Loads the tensors of a model directory (single file or sharded) into <paramref name="parameters"/>.</summary>
    public static StateDictLoadReport Load(string directory, IEnumerable<Tensor> parameters, StateDictLoadOptions? options = null)
    {
        using var checkpoint = CheckpointDirectory.Open(directory);
        return Load(checkpoint, parameters, options);
    }

    private static IEnumerable<string> Candidates(string parameter)
    {
        yield return parameter;
        if (EmbeddingAliases.Contains(parameter))
            foreach (string alias in EmbeddingAliases)
                if (alias != parameter) yield return alias;
    }

    /// <summary>A second stored copy of the tied embedding must equal the one loaded.</summary>
    private static void CheckTiedCopy(ITensorSource source, string alias, string parameter, string loadedFrom,
        Dictionary<string, Tensor> byName)
    {
        var p = byName[parameter];
        source.TryGetInfo(alias, out var info);
        if (!info.ShapeEquals(p.Shape))
            throw new CheckpointFormatException(source.Location, alias, $"tied alias of {loadedFrom} but its shape is {info.ShapeString}, not {p.Shape}");
        using var copy = Tensor.Uninitialized(p.Shape);
        source.ReadInto(alias, copy);
        var a = copy.Span;
        var b = p.Span;
        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                throw new CheckpointFormatException(source.Location, alias,
                    $"tied alias of {loadedFrom} but the values differ (element {i}: {a[i]} vs {b[i]})");
        }
    }

    private static string List(List<string> names) =>
        string.Join(", ", names.Take(10)) + (names.Count > 10 ? $", … ({names.Count - 10} more)" : "");
}
