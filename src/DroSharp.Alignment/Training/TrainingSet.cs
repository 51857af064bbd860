using System.Security.Cryptography;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Objectives;
using PreferencePair = DroSharp.Alignment.Objectives.PreferencePair;

namespace DroSharp.Alignment.Training;

/// <summary>
/// One split as the trainer consumes it: the (prompt, completion) rows the networks score, and for
/// pair objectives (DPO) the (chosen, rejected) row pairs. The sampler draws units: pairs for pair
/// objectives, rows otherwise.
/// </summary>
internal sealed class TrainingSet
{
    private TrainingSet(TrainingRow[] rows, (int Chosen, int Rejected)[] pairs, bool paired)
    {
        Rows = rows;
        Pairs = pairs;
        Paired = paired;
    }

    public TrainingRow[] Rows { get; }

    public (int Chosen, int Rejected)[] Pairs { get; }

    /// <summary>True when the objective samples (chosen, rejected) pairs.</summary>
    public bool Paired { get; }

    public int UnitCount => Paired ? Pairs.Length : Rows.Length;

    public static TrainingSet Empty(bool paired) => new([], [], paired);

    /// <summary>
    /// Rows from a prepared split. Preference pairs become a thumbs-up (reward 1) and a thumbs-down
    /// (reward 0) row each; for a pair objective the pairs are kept, for the others the rows stand alone.
    /// </summary>
    public static TrainingSet From(PreparedSplit split, bool paired)
    {
        if (split.Kind == DatasetKind.PreferencePairs)
        {
            var rows = new List<TrainingRow>();
            var pairs = new (int, int)[split.Pairs.Count];
            for (int p = 0; p < split.Pairs.Count; p++)
            {
                var pr = split.Pairs[p];
                pairs[p] = (rows.Count, rows.Count + 1);
                rows.Add(new TrainingRow(pr.PromptIds, pr.ChosenIds, 1, true, p));
                rows.Add(new TrainingRow(pr.PromptIds, pr.RejectedIds, 0, false, p));
            }
            return new TrainingSet(rows.ToArray(), pairs, paired);
        }
        var examples = split.Examples;
        var result = new TrainingRow[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            double reward = e.Reward ?? e.RawReward ?? (e.Label == true ? 1.0 : 0.0);
            result[i] = new TrainingRow(e.PromptIds, e.CompletionIds, reward, e.Label, split.PromptGroups.GroupOf(i));
        }
        return new TrainingSet(result, [], paired);
    }

    /// <summary>The mean reward of the rows (the threshold of "above the mean").</summary>
    public double MeanReward => Rows.Length == 0 ? 0 : Rows.Average(r => r.Reward);

    /// <summary>
    /// The desirable rows only (SFT on positives): thumbs up when every row has a label, else a reward
    /// strictly above <paramref name="rewardThreshold"/> (the training split's mean reward, whether or not
    /// rewards were normalised). Null when none is left.
    /// </summary>
    public TrainingSet? Positives(double rewardThreshold)
    {
        var keep = Rows.All(r => r.Label is not null)
            ? Rows.Where(r => r.Label == true).ToArray()
            : Rows.Where(r => r.Reward > rewardThreshold).ToArray();
        return keep.Length == 0 ? null : new TrainingSet(keep, [], paired: false);
    }

    /// <summary>
    /// The rows of a micro-batch of sampled units: the units themselves, or for pairs the chosen rows then
    /// the rejected rows, with the pair structure over positions in the micro-batch.
    /// </summary>
    public (int[] Rows, PreferencePair[]? Pairs) Expand(int[] units)
    {
        if (!Paired) return (units, null);
        var rows = new int[units.Length * 2];
        var pp = new PreferencePair[units.Length];
        for (int i = 0; i < units.Length; i++)
        {
            rows[i] = Pairs[units[i]].Chosen;
            rows[units.Length + i] = Pairs[units[i]].Rejected;
            pp[i] = new PreferencePair(i, units.Length + i);
        }
        return (rows, pp);
    }

    /// <summary>SHA-256 (hex) of every row's token ids, length-prefixed, in order.</summary>
    public string Fingerprint()
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var b4 = new byte[4];
        void Add(int[] ids)
        {
            BitConverter.TryWriteBytes(b4, ids.Length); h.AppendData(b4);
            h.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
        }
        foreach (var r in Rows) { Add(r.Prompt); Add(r.Completion); }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }
}
