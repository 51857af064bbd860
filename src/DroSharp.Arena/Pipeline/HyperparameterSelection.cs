using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// Chooses an algorithm's learning rate and step from validation scores alone (its signature admits nothing
/// else): the grid point with the highest mean over seeds of the validation win rate against SFT, among the
/// points every seed reached with a finite evaluation; ties go to the higher mean validation reward, then the
/// earlier step, then the smaller learning rate. One choice per algorithm for all seeds, as a hyperparameter is
/// chosen, so the spread over seeds of the reported numbers includes no per-seed picking.
/// </summary>
public static class HyperparameterSelection
{
    /// <param name="seeds">Per seed, the validation score of every grid point it reached with a finite evaluation.</param>
    /// <param name="criterion">The rule in words, recorded in the result.</param>
    public static SelectionResult Select(IReadOnlyList<IReadOnlyDictionary<CandidateKey, ValidationScore>> seeds, string criterion)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(criterion);
        if (seeds.Count == 0) throw new ArgumentException("selection needs at least one seed", nameof(seeds));
        var keys = new SortedSet<CandidateKey>(seeds.SelectMany(s => s.Keys));
        var result = new SelectionResult { Criterion = criterion };
        GridPoint? best = null;
        foreach (var key in keys)
        {
            var scores = seeds.Where(s => s.ContainsKey(key)).Select(s => s[key]).ToList();
            foreach (var score in scores)
                if (!double.IsFinite(score.WinRate) || !double.IsFinite(score.Reward))
                    throw new ArgumentException($"validation score at LR {key.LearningRate}, step {key.Step} is not finite; leave such points out");
            var point = new GridPoint { LearningRate = key.LearningRate, Step = key.Step, Seeds = scores.Count, Eligible = scores.Count == seeds.Count };
            if (scores.Count > 0)
            {
                var win = ArenaStatistics.MeanAndStd(scores.Select(s => s.WinRate).ToArray());
                point.ValidationWinRate = win.Mean;
                point.ValidationWinRateStd = win.Std;
                point.ValidationReward = scores.Average(s => s.Reward);
            }
            result.Grid.Add(point);
            if (point.Eligible && (best is null || Better(point, best))) best = point;
        }
        if (best is not null)
        {
            result.LearningRate = best.LearningRate;
            result.Step = best.Step;
        }
        return result;
    }

    /// <summary>Strictly better: higher win rate, then higher reward; equal scores keep the earlier point (grid order: LR, then step).</summary>
    private static bool Better(GridPoint a, GridPoint b)
    {
        if (a.ValidationWinRate != b.ValidationWinRate) return a.ValidationWinRate > b.ValidationWinRate;
        if (a.ValidationReward != b.ValidationReward) return a.ValidationReward > b.ValidationReward;
        return a.Step < b.Step;
    }
}
