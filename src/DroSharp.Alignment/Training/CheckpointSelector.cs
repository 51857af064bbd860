using System.Globalization;
using System.Text.Json;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Keeps the best checkpoint by a held-out metric (<c>--select-by</c>, the HF Trainer's
/// <c>metric_for_best_model</c> with <c>load_best_model_at_end</c>): each evaluation that improves the
/// metric strictly (an earlier step wins a tie) becomes the best and is checkpointed; rotation
/// (<c>--save-total-limit</c>) keeps the newest checkpoints and the best; at the end <c>final/</c> holds the
/// best step's weights and <c>selection.json</c> says which step that is. With
/// <c>--early-stop-patience N</c> training stops after N evaluations without improvement.
/// <para>
/// The state is a function of the evaluation lines of <c>metrics.jsonl</c>, so a resumed run replays the
/// lines up to its checkpoint (<see cref="Replay"/>) and continues exactly; the best checkpoint is
/// never rotated away, so it is on disk whenever the newest one is.
/// </para>
/// Lower is better for names ending in <c>loss</c>, <c>kl</c> or <c>clipped_ratio</c>, higher otherwise.
/// Step 0 (π_ref itself) is reported as the baseline, never selected; an evaluation whose held-out
/// samples fail a health check (<see cref="RunWarnings.HealthProblems"/>) is never selected either.
/// </summary>
public sealed class CheckpointSelector
{
    /// <summary>
    /// The default, <c>eval_loss</c> (the HF Trainer's default <c>metric_for_best_model</c>; every objective has
    /// it): among the healthy evaluations it picked a step within noise of the best step's true reward in
    /// 196 of 198 arena runs, the implicit-reward accuracy in 193 (docs/results.md).
    /// </summary>
    public const string DefaultMetric = LossMetric;

    /// <summary>No selection: <c>final/</c> is the last step.</summary>
    public const string Last = "last";

    public const string AccuracyMetric = "eval_" + ImplicitRewardAccuracy.Name;
    public const string LossMetric = "eval_loss";

    private readonly List<(long Step, double Value)> _history = [];
    private readonly HashSet<long> _unhealthy = [];

    public CheckpointSelector(string metric, int? patience)
    {
        ValidateMetric(metric);
        Metric = metric;
        Patience = patience;
        GreaterIsBetter = !(metric.EndsWith("loss", StringComparison.Ordinal) || metric.EndsWith("kl", StringComparison.Ordinal)
                            || metric.EndsWith("clipped_ratio", StringComparison.Ordinal));
    }

    /// <summary><c>last</c> or an <c>eval_*</c> metric name.</summary>
    public static void ValidateMetric(string name)
    {
        if (name == Last) return;
        if (string.IsNullOrWhiteSpace(name) || !name.StartsWith("eval_", StringComparison.Ordinal))
            throw new TrainingException($"--select-by must be {Last} or a held-out metric named eval_* (e.g. {LossMetric}, {AccuracyMetric}), not '{name}'");
    }

    public string Metric { get; }

    public bool Enabled => Metric != Last;

    public bool GreaterIsBetter { get; }

    public int? Patience { get; }

    /// <summary>The best healthy evaluation's step.</summary>
    public long? BestStep { get; private set; }

    public double? BestValue { get; private set; }

    /// <summary>
    /// While no evaluation is healthy: the one closest to passing (fewest failed checks, then the smallest
    /// KL(π‖π_ref), then the earliest), checkpointed like a best so that final/ can fall back on it.
    /// </summary>
    public long? FallbackStep { get; private set; }

    private (int Problems, double Kl) _fallbackKey;

    /// <summary>The step final/ should hold: the best healthy evaluation, else the fallback (null: the last step).</summary>
    public long? CandidateStep => BestStep ?? FallbackStep;

    /// <summary>π_ref's value of the metric (the step-0 evaluation), when there was one.</summary>
    public double? ReferenceValue { get; private set; }

    /// <summary>Evaluations since the last improvement.</summary>
    public int EvaluationsWithoutImprovement { get; private set; }

    /// <summary>The selected metric was missing from an evaluation (the selection is then off: final/ is the last step).</summary>
    public bool MetricMissing { get; private set; }

    /// <summary>(step, value) of every evaluation seen.</summary>
    public IReadOnlyList<(long Step, double Value)> History => _history;

    /// <summary>
    /// Feeds one evaluation with the health checks it fails (<see cref="RunWarnings.HealthProblems"/>: KL above
    /// the bound, EOS rate low, length off); true when <paramref name="step"/> becomes the
    /// <see cref="CandidateStep"/> (the trainer then checkpoints it). An unhealthy evaluation never becomes the
    /// best and counts as no improvement; it can only be the fallback while no evaluation is healthy.
    /// </summary>
    public bool Observe(long step, IReadOnlyDictionary<string, double> evaluation, int failedChecks = 0)
    {
        if (!Enabled || MetricMissing) return false;
        if (!evaluation.TryGetValue(Metric, out double v))
        {
            MetricMissing = true;
            return false;
        }
        if (step == 0)
        {
            ReferenceValue = v;
            return false;
        }
        _history.Add((step, v));
        bool eligible = failedChecks == 0;
        if (!eligible) _unhealthy.Add(step);
        bool better = eligible && double.IsFinite(v) && (BestValue is not double best || (GreaterIsBetter ? v > best : v < best));
        if (better)
        {
            BestStep = step;
            BestValue = v;
            EvaluationsWithoutImprovement = 0;
            return true;
        }
        EvaluationsWithoutImprovement++;
        if (eligible || BestStep is not null) return false;
        double kl = evaluation.TryGetValue(HeldOutMetricNames.Kl, out double k) && double.IsFinite(k) ? k : double.PositiveInfinity;
        if (FallbackStep is not null && (failedChecks, kl).CompareTo(_fallbackKey) >= 0) return false;
        FallbackStep = step;
        _fallbackKey = (failedChecks, kl);
        return true;
    }

    /// <summary>True once <see cref="Patience"/> evaluations in a row did not improve.</summary>
    public bool ShouldStop => Enabled && !MetricMissing && Patience is int p && EvaluationsWithoutImprovement >= p;

    /// <summary>Rebuilds the state from the evaluation lines of metrics.jsonl (a resumed run's, up to its checkpoint).</summary>
    public void Replay(IEnumerable<MetricsRecord> lines, Func<MetricsRecord, int>? failedChecks = null)
    {
        foreach (var line in lines)
            if (line.IsEvaluation) Observe(line.Step, line.Values, failedChecks?.Invoke(line) ?? 0);
    }

    /// <summary>
    /// Checkpoints to delete so that at most <paramref name="limit"/> remain besides the best: the oldest
    /// first, never the best and never one of the newest <paramref name="limit"/> (0 keeps all).
    /// </summary>
    public IEnumerable<string> RotationVictims(IReadOnlyList<(long Step, string Directory)> checkpoints, int limit)
    {
        if (limit <= 0) yield break;
        var ordered = checkpoints.OrderBy(c => c.Step).ToList();
        for (int i = 0; i < ordered.Count - limit; i++)
            if (ordered[i].Step != CandidateStep) yield return ordered[i].Directory;
    }

    /// <summary>selection.json: the metric, the step <c>final/</c> holds and every evaluation's value.</summary>
    public string ToJson(long finalStep, long lastStep, bool earlyStopped) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["select_by"] = Metric,
        ["greater_is_better"] = GreaterIsBetter,
        ["final_step"] = finalStep,
        ["last_step"] = lastStep,
        ["best_value"] = Finite(BestValue),
        ["reference_value"] = Finite(ReferenceValue),
        ["early_stopped"] = earlyStopped,
        ["no_healthy_evaluation"] = BestStep is null && FallbackStep is not null,
        ["patience"] = Patience,
        ["metric_missing"] = MetricMissing,
        ["evaluations"] = _history.Select(h => new Dictionary<string, object?> { ["step"] = h.Step, ["value"] = Finite(h.Value), ["healthy"] = !_unhealthy.Contains(h.Step) }).ToList(),
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>One line for the log: which step final/ is and why.</summary>
    public string Describe(long finalStep, long lastStep)
    {
        string V(double? v) => v is double x ? x.ToString("0.####", CultureInfo.InvariantCulture) : "n/a";
        if (!Enabled) return $"final/ is the last step, {lastStep} (--select-by {Last})";
        if (MetricMissing) return $"final/ is the last step, {lastStep}: the evaluations have no {Metric} to select by";
        if (_history.Count == 0) return $"final/ is the last step, {lastStep} (no held-out evaluation to select by)";
        if (BestStep is null && FallbackStep is long fb && finalStep == fb)
            return $"final/ is step {finalStep} of {lastStep}: no evaluation passed the health checks (KL, EOS rate, length; see warnings.jsonl), and step {finalStep} came closest (fewest failed checks, then the smallest KL)";
        if (BestStep is null && _unhealthy.Count > 0) return $"final/ is the last step, {lastStep}: no evaluation passed the health checks (KL, EOS rate, length; see warnings.jsonl)";
        if (BestStep is null) return $"final/ is the last step, {lastStep}: no evaluation gave a finite {Metric}";
        double? lastValue = _history.Count > 0 && _history[^1].Step == lastStep ? _history[^1].Value : null;
        string s = $"final/ is step {finalStep} of {lastStep}, the best {Metric} ({V(BestValue)}; last step {V(lastValue)}";
        if (ReferenceValue is double r) s += $"; π_ref {V(r)}";
        s += ")";
        if (ReferenceValue is double rv && BestValue is double bv && !(GreaterIsBetter ? bv > rv : bv < rv))
            s += $"; no step improved on π_ref's {Metric}";
        return s;
    }

    private static double? Finite(double? v) => v is double x && double.IsFinite(x) ? x : null;
}
