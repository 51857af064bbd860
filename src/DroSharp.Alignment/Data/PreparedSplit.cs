using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace DroSharp.Alignment.Data;

/// <summary>
/// One split ready for training: token ids after truncation, final rewards, prompt groups and the summary.
/// <see cref="Source"/> keeps the rows as read (texts, lines), index for index with <see cref="Examples"/> or
/// <see cref="Pairs"/>.
/// </summary>
public sealed class PreparedSplit(
    string name,
    FeedbackDataset source,
    IReadOnlyList<TokenizedExample> examples,
    IReadOnlyList<TokenizedPair> pairs,
    PromptGroups promptGroups,
    DatasetSummary summary)
{
    /// <summary>"train" or "eval".</summary>
    public string Name { get; } = name;

    public FeedbackDataset Source { get; } = source;

    public DatasetKind Kind => Source.Kind;

    /// <summary>Unpaired rows (empty for preference pairs).</summary>
    public IReadOnlyList<TokenizedExample> Examples { get; } = examples;

    /// <summary>Preference pairs (empty otherwise).</summary>
    public IReadOnlyList<TokenizedPair> Pairs { get; } = pairs;

    public int Count => Kind == DatasetKind.PreferencePairs ? Pairs.Count : Examples.Count;

    public PromptGroups PromptGroups { get; } = promptGroups;

    public DatasetSummary Summary { get; } = summary;

    /// <summary>
    /// SHA-256 (hex) of the token ids in order — prompt, then completion (or chosen, rejected) per item, each
    /// length-prefixed — to bind cached reference log-probs to exactly this data. Rewards and labels are not
    /// included: the reference model's log-probs do not depend on them.
    /// </summary>
    public string TokenFingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(int[] ids)
        {
            Span<byte> length = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, ids.Length);
            hash.AppendData(length);
            if (BitConverter.IsLittleEndian) hash.AppendData(MemoryMarshal.AsBytes(ids.AsSpan()));
            else foreach (int id in ids) { System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, id); hash.AppendData(length); }
        }
        foreach (var e in Examples) { Add(e.PromptIds); Add(e.CompletionIds); }
        foreach (var p in Pairs) { Add(p.PromptIds); Add(p.ChosenIds); Add(p.RejectedIds); }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
