using System.Globalization;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The health checks of a run over its metrics stream (the lines of <c>metrics.jsonl</c>, in order): a
/// deterministic function of the stream, fed one line at a time by the trainer (and replayed from the
/// file on resume), testable on synthetic streams through <see cref="Scan"/>. Each check fires at most
/// once per run, with the measured number and the threshold:
/// <list type="bullet">
/// <item><c>logratio_drift</c>: running mean of the training <c>logratio/mean</c> (log π − log π_ref on the
/// data, nats per sequence) below −1.5 — the policy is lowering the probability of everything it was shown.
/// For DRO-V, DRO-P and RPO the floor is −max(1.5, (max r − mean r)/τ): their regularised optimum
/// π* ∝ π_ref·e^{r/τ} has a mean log-ratio on π_ref's samples of (E r − V*)/τ ≥ −(max r − mean r)/τ, which
/// a small τ makes legitimately large.</item>
/// <item><c>loss_high</c>: running mean of the training loss above twice its first logged value.</item>
/// <item><c>gradient_vanished</c>: running mean of <c>grad_norm</c> under 1 % of its first logged value (KTO's sigmoids saturated).</item>
/// <item><c>kl_high</c>: <c>eval_objective/kl</c> above <c>--kl-bound</c>, by default twice the KL of the regularised
/// optimum π* ∝ π_ref·e^{r/τ} estimated on the training rewards (<see cref="WarningContext.OptimumKl"/>), at least
/// 0.5 nats and never above (max r − min r)/τ, the most KL(π*‖π_ref) can be
/// (KL = (E_π*[r] − τ·log E_ref[e^{r/τ}])/τ ≤ (E_π*[r] − E_ref[r])/τ by Jensen).</item>
/// <item><c>eos_rate_low</c>: held-out samples ending with EOS under 95 % (or under π_ref's own rate − 5 points, if lower).</item>
/// <item><c>length_changed</c>: mean held-out sample length more than 50 % away from π_ref's.</item>
/// </list>
/// Two checks look at the start instead: <see cref="Warmup"/> and <see cref="UntrainedPolicy"/>.
/// Running means cover the last k logged lines, k ≈ 10 % of the run (2 ≤ k ≤ 5).
/// </summary>
public sealed class RunWarnings
{
    public const string RunningLogRatioName = "logratio/running_mean";

    private readonly WarningContext _c;
    private readonly WarningThresholds _t;
    private readonly int _window;
    private readonly HashSet<string> _fired = new(StringComparer.Ordinal);
    private readonly List<RunWarning> _all = [];
    private readonly Queue<MetricsRecord> _recent = new();
    private double? _firstLoss, _firstGradNorm;

    public RunWarnings(WarningContext context, WarningThresholds? thresholds = null)
    {
        _c = context ?? throw new ArgumentNullException(nameof(context));
        _t = thresholds ?? new WarningThresholds();
        long lines = Math.Max(1, (context.TotalSteps + context.LogEvery - 1) / Math.Max(1, context.LogEvery));
        int k = (int)Math.Ceiling(_t.WindowFraction * context.TotalSteps / Math.Max(1, context.LogEvery));
        _window = (int)Math.Min(lines, Math.Clamp(k, 2, Math.Max(2, _t.MaxWindowLines)));
    }

    public WarningContext Context => _c;

    /// <summary>Logged lines a running mean covers.</summary>
    public int WindowLines => _window;

    /// <summary>Every warning fired so far, in order.</summary>
    public IReadOnlyList<RunWarning> Fired => _all;

    /// <summary>The running mean of the training <c>logratio/mean</c> (nats per sequence), null before the first line with it.</summary>
    public double? RunningLogRatio => RunningMean("logratio/mean") is double m ? m * _c.LogRatioScale : null;

    /// <summary>Marks a warning as already fired (a resumed run replays warnings.jsonl).</summary>
    public void Restore(RunWarning warning)
    {
        if (_fired.Add(warning.Code)) _all.Add(warning);
    }

    /// <summary>Feeds one metrics line; returns the warnings it fires.</summary>
    public IReadOnlyList<RunWarning> Observe(MetricsRecord line)
    {
        var fired = new List<RunWarning>();
        if (line.IsEvaluation) ObserveEvaluation(line, fired);
        else if (line.Get("loss") is not null) ObserveTraining(line, fired);
        return fired;
    }

    /// <summary>The warnings a whole stream fires (a pure function of the stream).</summary>
    public static IReadOnlyList<RunWarning> Scan(WarningContext context, IEnumerable<MetricsRecord> stream, WarningThresholds? thresholds = null)
    {
        var w = new RunWarnings(context, thresholds);
        foreach (var line in stream) w.Observe(line);
        return w.Fired;
    }

    private void ObserveTraining(MetricsRecord line, List<RunWarning> fired)
    {
        _recent.Enqueue(line);
        while (_recent.Count > _window) _recent.Dequeue();
        _firstLoss ??= line.Get("loss");
        _firstGradNorm ??= line.Get("grad_norm");
        if (_recent.Count < _window) return;

        double floor = _c.EffectiveLogRatioFloor(_t);
        if (_c.Regularisation is not null && RunningLogRatio is double lr && lr < floor)
            Fire(fired, line.Step, RunWarning.LogRatioDrift, lr, floor,
                $"the policy's log-ratio log π − log π_ref on the training data averages {N(lr)} nats per sequence over the last {_window} logged steps " +
                $"(threshold {N(floor)}): it is lowering the probability of everything it was shown; try a lower --lr");

        if (_firstLoss is double l0 && l0 > 0 && RunningMean("loss") is double loss && loss > _t.LossFactor * l0)
            Fire(fired, line.Step, RunWarning.LossHigh, loss, _t.LossFactor * l0,
                $"the training loss averages {N(loss)} over the last {_window} logged steps, more than {N(_t.LossFactor)}× its first value {N(l0)} " +
                $"(threshold {N(_t.LossFactor * l0)}); try a lower --lr");

        if (_c.Regularisation is not null && _firstGradNorm is double g0 && g0 > 0 && RunningMean("grad_norm") is double g && g < _t.GradientFloor * g0)
            Fire(fired, line.Step, RunWarning.GradientVanished, g, _t.GradientFloor * g0,
                $"the policy's gradient norm averages {N(g)} over the last {_window} logged steps, under {N(100 * _t.GradientFloor)} % of its first value {N(g0)} " +
                $"(threshold {N(_t.GradientFloor * g0)})" + (_c.Algo == "kto" ? ": KTO's sigmoids have saturated and it no longer learns; try a lower --lr or a larger --beta" : ": training has stalled"));
    }

    private void ObserveEvaluation(MetricsRecord line, List<RunWarning> fired)
    {
        foreach (var w in HealthProblems(line)) Fire(fired, w);
    }

    /// <summary>
    /// The held-out checks an evaluation line fails, each time it fails them (KL above the bound, EOS rate
    /// under the floor, length off by more than half); empty for a healthy evaluation and for step 0 (π_ref).
    /// The best-checkpoint selection considers the healthy evaluations only.
    /// </summary>
    public IReadOnlyList<RunWarning> HealthProblems(MetricsRecord line)
    {
        var problems = new List<RunWarning>();
        if (line.Step == 0 || !line.IsEvaluation) return problems;
        if (line.Get(HeldOutMonitor.KlName) is double kl && _c.EffectiveKlBound(_t) is double bound && kl > bound)
            problems.Add(new RunWarning(line.Step, RunWarning.KlHigh, kl, bound,
                $"KL(π‖π_ref) on held-out samples is {N(kl)} nats, above {N(bound)} " +
                (_c.KlBound is not null ? "(--kl-bound)"
                    : _c.OptimumKl is double k && bound < (_c.RewardRange ?? 0) / (_c.Regularisation ?? 1)
                        ? $"({N(_t.KlBoundFactor)} × {N(k)}, the KL of the regularised optimum π* ∝ π_ref·e^(r/{_c.RegularisationName}) estimated on the training rewards; at least {N(_t.KlBoundFloor)})"
                        : $"(= (max r − min r)/{_c.RegularisationName}, the most the regularised optimum can reach)") +
                "; the policy has left π_ref far behind: try a lower --lr"));

        if (line.Get(HeldOutMonitor.EosName) is double eos)
        {
            double floor = _t.EosRateFloor;
            if (line.Get(HeldOutMonitor.RefEosName) is double refEos) floor = Math.Min(floor, refEos - _t.EosMarginBelowReference);
            if (eos < floor)
                problems.Add(new RunWarning(line.Step, RunWarning.EosRateLow, eos, floor,
                    $"only {N(100 * eos)} % of held-out samples end with EOS (threshold {N(100 * floor)} %" +
                    (line.Get(HeldOutMonitor.RefEosName) is double r ? $"; π_ref: {N(100 * r)} %" : "") + "): the policy no longer stops"));
        }

        if (line.Get(HeldOutMonitor.LengthName) is double len && line.Get(HeldOutMonitor.RefLengthName) is double refLen && refLen > 0
            && Math.Abs(len / refLen - 1) > _t.LengthChange)
            problems.Add(new RunWarning(line.Step, RunWarning.LengthChanged, len / refLen, 1 + Math.Sign(len - refLen) * _t.LengthChange,
                $"held-out samples average {N(len)} tokens against π_ref's {N(refLen)} (×{N(len / refLen)}; threshold ×{N(1 - _t.LengthChange)}–×{N(1 + _t.LengthChange)})"));
        return problems;
    }

    /// <summary>Warmup longer than half the run: the learning rate peaks late, or never.</summary>
    public static RunWarning? Warmup(long warmupSteps, long totalSteps, WarningThresholds? thresholds = null)
    {
        var t = thresholds ?? new WarningThresholds();
        if (totalSteps <= 0 || warmupSteps <= t.WarmupFraction * totalSteps) return null;
        string what = warmupSteps >= totalSteps ? "the learning rate never reaches --lr" : "the learning rate peaks late and barely decays";
        return new RunWarning(0, RunWarning.WarmupTooLong, warmupSteps, t.WarmupFraction * totalSteps,
            $"warmup is {warmupSteps} steps, {N(100.0 * warmupSteps / totalSteps)} % of the {totalSteps}-step run (threshold {N(100 * t.WarmupFraction)} %): {what}; " +
            "use --warmup-ratio (default 0.1) or fewer --warmup-steps");
    }

    /// <summary>
    /// A policy whose mean token log-prob on the training completions is close to that of the uniform
    /// distribution, −log V, looks randomly initialised; aligning it without SFT first does not make sense
    /// (null for the SFT objectives, which are how one gets there).
    /// </summary>
    public static RunWarning? UntrainedPolicy(double meanTokenLogProb, int vocabSize, string algo, WarningThresholds? thresholds = null)
    {
        var t = thresholds ?? new WarningThresholds();
        if (algo is "sft" or "sft-pos" || vocabSize < 2 || !double.IsFinite(meanTokenLogProb)) return null;
        double uniform = -Math.Log(vocabSize);
        double threshold = t.UniformFraction * uniform;
        if (meanTokenLogProb >= threshold) return null;
        return new RunWarning(0, RunWarning.UntrainedPolicy, meanTokenLogProb, threshold,
            $"the policy gives the training completions {N(meanTokenLogProb)} nats per token, close to a uniform guess over {vocabSize} tokens ({N(uniform)}; " +
            $"threshold {N(threshold)}): it looks untrained; run --algo sft on demonstrations first (or start from a pretrained model) and align that");
    }

    private double? RunningMean(string name)
    {
        double sum = 0;
        int n = 0;
        foreach (var r in _recent)
            if (r.Get(name) is double v && double.IsFinite(v)) { sum += v; n++; }
        return n == 0 ? null : sum / n;
    }

    private void Fire(List<RunWarning> fired, long step, string code, double value, double threshold, string message) =>
        Fire(fired, new RunWarning(step, code, value, threshold, message));

    private void Fire(List<RunWarning> fired, RunWarning w)
    {
        if (!_fired.Add(w.Code)) return;
        _all.Add(w);
        fired.Add(w);
    }

    private static string N(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
