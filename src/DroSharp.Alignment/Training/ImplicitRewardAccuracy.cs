namespace DroSharp.Alignment.Training;

/// <summary>
/// Does the implicit reward c·(log π − log π_ref) (c = τ for DRO, β for KTO and DPO; the ranking does
/// not depend on c) rank the thumbs-up rows above the thumbs-down rows? For single-trajectory feedback
/// there is no pair to compare inside, so this is the fraction of all (up, down) row pairs ordered
/// correctly, ties counted ½ — the Mann–Whitney statistic, i.e. the ROC AUC of the log-ratio as a
/// classifier of the feedback. For DPO's pairs TRL's <c>rewards/accuracies</c> is the same fraction
/// over the given pairs. It is 0.5 at π = π_ref (every log-ratio is 0).
/// </summary>
public static class ImplicitRewardAccuracy
{
    public const string Name = "rewards/accuracies";

    /// <summary>The fraction, or null when either class is empty.</summary>
    public static double? Compute(ReadOnlySpan<double> logRatios, ReadOnlySpan<bool> positive)
    {
        if (logRatios.Length != positive.Length) throw new ArgumentException($"{logRatios.Length} log-ratios but {positive.Length} labels");
        int n = logRatios.Length;
        long nPos = 0;
        foreach (bool p in positive) if (p) nPos++;
        long nNeg = n - nPos;
        if (nPos == 0 || nNeg == 0) return null;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var values = logRatios.ToArray();
        Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
        // Sum of the positives' mid-ranks (1-based; tied values share the mean of their ranks).
        double rankSum = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && values[order[end + 1]] == values[order[start]]) end++;
            double midRank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) if (positive[order[k]]) rankSum += midRank;
            start = end + 1;
        }
        double u = rankSum - nPos * (nPos + 1) / 2.0;   // pairs (up, down) with up ranked above, ties ½
        return u / ((double)nPos * nNeg);
    }
}
