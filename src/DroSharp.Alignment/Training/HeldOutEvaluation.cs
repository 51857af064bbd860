using DroSharp.Alignment.Objectives;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The objective and its metrics on the held-out split, no gradients, as <c>eval_*</c>, with the
/// implicit-reward accuracy when the objective does not report its own. Under several processes the
/// chunks are shared out and the sums reduced, so every rank gets the same values.
/// </summary>
internal sealed class HeldOutEvaluation(TrainingSession session, MicroBatchRunner runner)
{
    public SortedDictionary<string, double> Evaluate(Tape tape)
    {
        var (eval, group, batchSize) = (session.Eval, session.Group, session.Options.BatchSize);
        var metrics = new ObjectiveMetrics();
        double loss = 0;
        int batches = 0;
        int units = eval.UnitCount;
        var logRatios = new List<double>();
        var positive = new List<bool>();
        double threshold = session.Train.MeanReward;
        var chunks = new List<int[]>();
        for (int s = 0; s < units; s += batchSize) chunks.Add(Enumerable.Range(s, Math.Min(batchSize, units - s)).ToArray());
        // A last chunk below the objective's minimum joins the one before it.
        if (chunks.Count > 1 && chunks[^1].Length < session.Needs.MinimumBatchSize) { chunks[^2] = [.. chunks[^2], .. chunks[^1]]; chunks.RemoveAt(chunks.Count - 1); }
        // With several processes, chunk c is evaluated by rank c mod N and the sums are reduced.
        for (int c = 0; c < chunks.Count; c++)
        {
            if (c % group.WorldSize != group.Rank) continue;
            var r = runner.Run(eval, train: false, chunks[c], 1.0, tape);
            metrics.Merge(r.Metrics);
            if (r.LogRatios is { } lr)
            {
                logRatios.AddRange(lr);
                positive.AddRange(eval.Expand(chunks[c]).Rows.Select(i => eval.Rows[i].Label ?? eval.Rows[i].Reward > threshold));
            }
            loss += r.Loss;
            batches++;
        }
        session.Reference?.Share(group);
        long allBatches;
        (loss, allBatches, metrics) = group.SumTotals(loss, batches, metrics);
        if (group.WorldSize > 1)
        {
            // Every process needs every held-out log-ratio for the accuracy (it drives the same selection on every rank).
            double[] mine = [.. logRatios.SelectMany((v, i) => new[] { v, positive[i] ? 1.0 : 0.0 })];
            logRatios.Clear();
            positive.Clear();
            foreach (double[] theirs in group.AllGather(mine))
                for (int i = 0; i + 1 < theirs.Length; i += 2) { logRatios.Add(theirs[i]); positive.Add(theirs[i + 1] != 0); }
        }
        batches = (int)allBatches;
        var d = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, val) in metrics.ToDictionary()) d["eval_" + k] = val;
        d["eval_loss"] = loss / batches;
        // Does τ·log π/π_ref rank the held-out thumbs-up rows above the thumbs-down ones (DPO reports its own per pair)?
        if (!d.ContainsKey(CheckpointSelector.AccuracyMetric) && ImplicitRewardAccuracy.Compute(logRatios.ToArray(), positive.ToArray()) is double acc)
            d[CheckpointSelector.AccuracyMetric] = acc;
        return d;
    }
}
