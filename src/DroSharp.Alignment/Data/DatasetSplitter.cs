using DroSharp.Tensors;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Holds out an eval split for <c>--eval-fraction</c>. Examples that share a prompt stay on the same side, so the
/// eval prompts are unseen in training (with one response per prompt this is a plain per-example split). Prompt
/// groups are shuffled with a stream derived from the seed and taken into eval until it has at least
/// round(fraction × n) examples; training always keeps at least one group. Deterministic for a given seed.
/// </summary>
public static class DatasetSplitter
{
    /// <summary>Added to the seed so the split draws a different stream from the sampler seeded with the same value.</summary>
    private const ulong SplitStream = 0x5EED_0000_5B11_7000UL;

    public static DataSplit Split(FeedbackDataset data, double evalFraction, ulong seed)
    {
        var keys = new string[data.Count];
        for (int i = 0; i < keys.Length; i++) keys[i] = data.PromptAt(i).Key;
        return Split(keys, evalFraction, seed, data.File);
    }

    internal static DataSplit Split(IReadOnlyList<string> promptKeys, double evalFraction, ulong seed, string file)
    {
        if (!(evalFraction > 0 && evalFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(evalFraction), evalFraction, "the eval fraction must be strictly between 0 and 1");
        int n = promptKeys.Count;
        var groupIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var groups = new List<List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (!groupIndex.TryGetValue(promptKeys[i], out int g))
            {
                g = groups.Count;
                groupIndex.Add(promptKeys[i], g);
                groups.Add([]);
            }
            groups[g].Add(i);
        }
        if (groups.Count < 2)
            throw new DataFormatException(file, null, null, DataErrorKind.UnsupportedLayout,
                $"cannot hold out an eval fraction: {(n == 1 ? "there is a single example" : "every example has the same prompt")}; give --eval-data instead");

        var order = new int[groups.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        new DeterministicRandom(seed + SplitStream).Shuffle<int>(order);

        int target = Math.Max(1, (int)Math.Round(evalFraction * n, MidpointRounding.AwayFromZero));
        var eval = new List<int>();
        int taken = 0;
        while (eval.Count < target && taken < order.Length - 1) eval.AddRange(groups[order[taken++]]);
        var train = new List<int>(n - eval.Count);
        for (int k = taken; k < order.Length; k++) train.AddRange(groups[order[k]]);
        eval.Sort();
        train.Sort();
        return new DataSplit(train.ToArray(), eval.ToArray());
    }
}
