using DroSharp.Tensors;

namespace DroSharp.Arena.Reports;

/// <summary>Pure functions on numbers for evaluating arena runs.</summary>
public static class ArenaStatistics
{
    /// <summary>
    /// Win rate of A over B, prompt by prompt: one reward each for the same prompt; score 1 when A's is higher,
    /// ½ on a tie (|a − b| ≤ tieTolerance), 0 otherwise. StandardError = √(mean(s²) − mean(s)²) / √n: the
    /// binomial √(p(1 − p)/n) when there are no ties, and the plug-in error of a mean of {0, ½, 1} with ties.
    /// </summary>
    public static WinRateEstimate WinRate(IReadOnlyList<double> rewardsA, IReadOnlyList<double> rewardsB, double tieTolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(rewardsA);
        ArgumentNullException.ThrowIfNull(rewardsB);
        if (rewardsA.Count != rewardsB.Count)
            throw new ArgumentException($"win rate needs one reward per prompt on each side: A has {rewardsA.Count}, B has {rewardsB.Count}");
        if (rewardsA.Count == 0) throw new ArgumentException("win rate of zero prompts is undefined");
        if (!(tieTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(tieTolerance), tieTolerance, "must be ≥ 0");
        int wins = 0, ties = 0, losses = 0;
        for (int i = 0; i < rewardsA.Count; i++)
        {
            double a = rewardsA[i], b = rewardsB[i];
            if (double.IsNaN(a) || double.IsNaN(b)) throw new ArgumentException($"win rate: reward of prompt {i} is NaN (A = {a}, B = {b})");
            if (Math.Abs(a - b) <= tieTolerance) ties++;
            else if (a > b) wins++;
            else losses++;
        }
        int n = rewardsA.Count;
        double rate = (wins + 0.5 * ties) / n;
        double meanSquare = (wins + 0.25 * ties) / n;
        double variance = Math.Max(0, meanSquare - rate * rate);
        return new WinRateEstimate(rate, Math.Sqrt(variance / n), wins, ties, losses);
    }

    /// <summary>Per-prompt scores of A over B (1, ½, 0), for bootstrapping or pooling across seeds.</summary>
    public static double[] WinScores(IReadOnlyList<double> rewardsA, IReadOnlyList<double> rewardsB, double tieTolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(rewardsA);
        ArgumentNullException.ThrowIfNull(rewardsB);
        if (rewardsA.Count != rewardsB.Count)
            throw new ArgumentException($"win scores need one reward per prompt on each side: A has {rewardsA.Count}, B has {rewardsB.Count}");
        var scores = new double[rewardsA.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            double d = rewardsA[i] - rewardsB[i];
            if (double.IsNaN(d)) throw new ArgumentException($"win scores: reward of prompt {i} is NaN");
            scores[i] = Math.Abs(d) <= tieTolerance ? 0.5 : d > 0 ? 1 : 0;
        }
        return scores;
    }

    /// <summary>
    /// Bootstrap standard error of the mean: the standard deviation of the means of <paramref name="resamples"/>
    /// resamples drawn with replacement. Deterministic given the generator.
    /// </summary>
    public static double BootstrapStandardError(IReadOnlyList<double> values, DeterministicRandom rng, int resamples = 1000)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(rng);
        if (values.Count == 0) throw new ArgumentException("bootstrap of zero values is undefined");
        if (resamples < 2) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "need at least 2 resamples");
        var means = new double[resamples];
        int n = values.Count;
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += values[rng.NextInt(n)];
            means[r] = sum / n;
        }
        return MeanAndStd(means).Std;
    }

    /// <summary>Mean and sample standard deviation (n − 1 in the denominator; 0 for a single value).</summary>
    public static MeanStd MeanAndStd(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("mean of zero values is undefined");
        double mean = 0;
        for (int i = 0; i < values.Count; i++) mean += values[i];
        mean /= values.Count;
        if (values.Count == 1) return new MeanStd(mean, 0, 1);
        double ss = 0; // two-pass: no cancellation when the spread is small next to the mean
        for (int i = 0; i < values.Count; i++) ss += (values[i] - mean) * (values[i] - mean);
        return new MeanStd(mean, Math.Sqrt(ss / (values.Count - 1)), values.Count);
    }

    /// <summary>KL(π‖π_ref) from per-sample sequence log-probabilities of responses sampled from π.</summary>
    public static KlEstimate KlFromLogProbs(IReadOnlyList<double> logPolicy, IReadOnlyList<double> logReference)
    {
        ArgumentNullException.ThrowIfNull(logPolicy);
        ArgumentNullException.ThrowIfNull(logReference);
        if (logPolicy.Count != logReference.Count)
            throw new ArgumentException($"KL needs log π and log π_ref for the same samples: got {logPolicy.Count} and {logReference.Count}");
        var diffs = new double[logPolicy.Count];
        for (int i = 0; i < diffs.Length; i++) diffs[i] = logPolicy[i] - logReference[i];
        return KlFromLogRatios(diffs);
    }

    /// <summary>KL(π‖π_ref) from per-sample d = log π(y|x) − log π_ref(y|x) with y ~ π.</summary>
    public static KlEstimate KlFromLogRatios(IReadOnlyList<double> logRatios)
    {
        ArgumentNullException.ThrowIfNull(logRatios);
        if (logRatios.Count == 0) throw new ArgumentException("KL of zero samples is undefined");
        double k3 = 0;
        for (int i = 0; i < logRatios.Count; i++)
        {
            double d = logRatios[i];
            if (!double.IsFinite(d)) throw new ArgumentException($"KL: log-ratio of sample {i} is {d}");
            k3 += Math.Exp(-d) - 1 + d;
        }
        var ms = MeanAndStd(logRatios);
        return new KlEstimate(ms.Mean, ms.Count > 1 ? ms.StandardError : double.NaN, k3 / logRatios.Count, logRatios.Count);
    }
}
