using System.Globalization;
using System.Text.Json;
using DroSharp.Alignment.Objectives;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Alignment.Training;

/// <summary>
/// What makes a run tell the truth, bundled for the trainer: the held-out monitor (samples of the policy
/// on held-out prompts: KL, EOS rate, lengths; <see cref="HeldOutMonitor"/>), the warnings
/// (<see cref="RunWarnings"/>, printed as they fire and appended to <c>warnings.jsonl</c>) and the best
/// checkpoint (<see cref="CheckpointSelector"/>, <c>selection.json</c>). Its state is rebuilt from the
/// run's files on resume, so an interrupted run ends exactly like an uninterrupted one.
/// </summary>
internal sealed class RunHealth : IDisposable
{
    private readonly TrainingOptions _o;
    private readonly RunDirectory _run;
    private readonly RunPlan _plan;
    private readonly TextWriter _log;
    private readonly bool _writes;
    private readonly RunWarnings _warnings;
    private readonly CheckpointSelector _selector;
    private readonly HeldOutMonitor? _monitor;
    private readonly IReferencePolicy _reference;
    private readonly WarningContext _context;
    private readonly WarningThresholds _thresholds = new();
    private bool _policyIsReference;

    public RunHealth(TrainingOptions o, RunDirectory run, RunPlan plan, IPolicyModel policy, TrainingSet train, TrainingSet eval,
        ObjectiveRequirements needs, IReferencePolicy reference, TextWriter log, bool writesFiles)
    {
        _o = o;
        _run = run;
        _plan = plan;
        _log = log;
        _writes = writesFiles;
        _reference = reference;
        bool tau = o.Algo is not ("kto" or "dpo");
        double[] rewards = train.Rows.Select(r => r.Reward).ToArray();
        double regularisation = tau ? o.Tau : o.Beta;
        _warnings = new RunWarnings(new WarningContext
        {
            Algo = o.Algo,
            TotalSteps = plan.TotalSteps,
            LogEvery = o.LogEvery,
            Regularisation = needs.NeedsReference ? regularisation : null,
            RegularisationName = tau ? "τ" : "β",
            RewardRange = rewards.Length > 0 ? rewards.Max() - rewards.Min() : null,
            RewardHeadroom = rewards.Length > 0 ? rewards.Max() - rewards.Average() : null,
            OptimumKl = needs.NeedsReference && rewards.Length > 0 ? WarningContext.OptimumKlEstimate(rewards, regularisation) : null,
            KlRegularisedOptimum = needs.NeedsReference && tau,
            KlBound = o.KlBound,
            LogRatioScale = o.LengthNormalize && train.Rows.Length > 0 ? train.Rows.Average(r => (double)r.Completion.Length) : 1,
        });
        _selector = new CheckpointSelector(o.SelectBy, o.EarlyStopPatience);
        _context = _warnings.Context;
        if (eval.UnitCount > 0)
            _monitor = HeldOutMonitor.Create(o, eval, policy.Config.MaxSequenceLength, reference, writesFiles ? SamplesFile : null);
    }

    public string WarningsFile => Path.Combine(_run.Path, "warnings.jsonl");
    public string SamplesFile => Path.Combine(_run.Path, "samples.jsonl");
    public string SelectionFile => Path.Combine(_run.Path, "selection.json");
    public string HealthFile => Path.Combine(_run.Path, "health.json");

    /// <summary>Called before a warning is printed (ends a progress bar's line).</summary>
    public Action? BeforePrint { get; set; }

    public CheckpointSelector Selector => _selector;

    public IReadOnlyList<RunWarning> Warnings => _warnings.Fired;

    /// <summary>
    /// A new run: the start checks (warmup against the run's length; a policy that looks untrained),
    /// and π_ref's samples on the held-out prompts.
    /// </summary>
    public void Start(IPolicyModel policy, TrainingSet train, bool policyIsReference)
    {
        _policyIsReference = policyIsReference;
        if (_writes)
        {
            if (File.Exists(WarningsFile)) File.Delete(WarningsFile);
            if (File.Exists(SamplesFile)) File.Delete(SamplesFile);
            if (File.Exists(SelectionFile)) File.Delete(SelectionFile);
        }
        Emit(RunWarnings.Warmup(_plan.WarmupSteps, _plan.TotalSteps));
        // Mean token log-prob of up to 16 training completions under the policy.
        int n = Math.Min(16, train.Rows.Length);
        if (n > 0)
        {
            var rows = train.Rows.Take(n).ToArray();
            var perToken = policy.ScoreSequences(rows.Select(r => r.Prompt).ToArray(), rows.Select(r => r.Completion).ToArray(), n, lengthNormalize: true);
            Emit(RunWarnings.UntrainedPolicy(perToken.Average(), policy.Config.VocabSize, _o.Algo));
        }
        _monitor?.Start(policy, policyIsReference);
        WriteHealthFile();
    }

    /// <summary>A resumed run at <paramref name="step"/>: files truncated to it, warnings and selection replayed.</summary>
    public void Resume(IPolicyModel policy, long step)
    {
        _policyIsReference = false;
        if (_writes)
        {
            JsonlLog.TruncateAfter(WarningsFile, step);
            JsonlLog.TruncateAfter(SamplesFile, step);
        }
        var lines = JsonlLog.ReadMetrics(_run.MetricsFile).Where(l => l.Step <= step).ToList();
        foreach (var line in lines) _warnings.Observe(line);
        foreach (var w in ReadWarnings()) _warnings.Restore(w);
        _selector.Replay(lines, line => _warnings.HealthProblems(line).Count);
        if (_selector.CandidateStep is long best && !Directory.Exists(_run.CheckpointDirectory(best)))
            _log.WriteLine($"warning: the best checkpoint so far (step {best}, by {_selector.Metric}) is missing from {_run.CheckpointsDirectory}; final/ may not be the best step");
        _monitor?.Start(policy, policyIsReference: false);
        WriteHealthFile();
    }

    /// <summary>health.json: the resolved schedule, the held-out sampling settings and the warning thresholds in force (for dro report).</summary>
    private void WriteHealthFile()
    {
        if (!_writes) return;
        var t = _thresholds;
        RunDirectory.WriteTextAtomic(HealthFile, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["total_steps"] = _plan.TotalSteps,
            ["warmup_steps"] = _plan.WarmupSteps,
            ["eval_every"] = _plan.EvalEvery,
            ["select_by"] = _selector.Metric,
            ["greater_is_better"] = _selector.GreaterIsBetter,
            ["eval_prompts"] = _monitor?.Prompts.Count ?? 0,
            ["eval_max_new_tokens"] = _monitor?.MaxNewTokens,
            ["kl_bound"] = _context.EffectiveKlBound(t),
            ["reward_range"] = _context.RewardRange,
            ["optimum_kl"] = _context.OptimumKl,
            ["regularisation"] = _context.Regularisation,
            ["logratio_floor"] = _context.EffectiveLogRatioFloor(t),
            ["eos_rate_floor"] = t.EosRateFloor,
            ["length_change"] = t.LengthChange,
            ["loss_factor"] = t.LossFactor,
            ["gradient_floor"] = t.GradientFloor,
            ["window_lines"] = _warnings.WindowLines,
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The held-out samples' signals of this step (empty without a monitor).</summary>
    public SortedDictionary<string, double> Sample(IPolicyModel policy, long step)
    {
        if (_monitor is null) return new SortedDictionary<string, double>(StringComparer.Ordinal);
        return _monitor.Evaluate(policy, step, policyIsReference: step == 0 && _policyIsReference);
    }

    /// <summary>Feeds a training log line (adds <c>logratio/running_mean</c> to it) and prints what fires.</summary>
    public void ObserveTraining(long step, IDictionary<string, double> line)
    {
        var fired = _warnings.Observe(new MetricsRecord(step, new Dictionary<string, double>(line)));
        if (_warnings.RunningLogRatio is double lr && line.ContainsKey("logratio/mean")) line[RunWarnings.RunningLogRatioName] = lr;
        foreach (var w in fired) Emit(w);
    }

    /// <summary>Feeds an evaluation line, prints its summary and what fires; true when this step is the new best checkpoint.</summary>
    public bool ObserveEvaluation(long step, IReadOnlyDictionary<string, double> evaluation)
    {
        var fired = _warnings.Observe(new MetricsRecord(step, evaluation));
        if (_writes)
        {
            BeforePrint?.Invoke();
            _log.WriteLine(Summary(step, evaluation));
        }
        foreach (var w in fired) Emit(w);
        bool wasMissing = _selector.MetricMissing;
        bool best = _selector.Observe(step, evaluation, _warnings.HealthProblems(new MetricsRecord(step, evaluation)).Count);
        if (!wasMissing && _selector.MetricMissing)
            _log.WriteLine($"warning: --select-by {_selector.Metric} is not among the evaluation metrics ({string.Join(", ", evaluation.Keys)}); final/ will be the last step");
        return best;
    }

    public bool ShouldStop => _selector.ShouldStop;

    /// <summary>The step final/ should hold: the best healthy evaluation, else the one closest to passing the checks, else <paramref name="lastStep"/>.</summary>
    public long FinalStep(long lastStep) =>
        _selector.Enabled && !_selector.MetricMissing && _selector.CandidateStep is long b && Directory.Exists(_run.CheckpointDirectory(b)) ? b : lastStep;

    /// <summary>
    /// Loads the best step's weights into the networks (before final/ is written), logs and writes selection.json;
    /// returns the step final/ holds when there were evaluations to choose from, else null.
    /// </summary>
    public long? Finish(IPolicyModel policy, IValueModel? value, long lastStep, bool earlyStopped)
    {
        long final = FinalStep(lastStep);
        // Only the writing process reads the best checkpoint back (under MPI the others may not see rank 0's files, and save nothing).
        if (final != lastStep && _writes) TrainingCheckpoint.LoadWeights(_run.CheckpointDirectory(final), policy.Parameters, value?.Parameters);
        _log.WriteLine(_selector.Describe(final, lastStep));
        if (_writes) RunDirectory.WriteTextAtomic(SelectionFile, _selector.ToJson(final, lastStep, earlyStopped));
        return _selector.History.Count > 0 ? final : null;
    }

    /// <summary>Checkpoints rotation may delete: the oldest beyond the limit, never the best.</summary>
    public IEnumerable<string> RotationVictims(int limit) => _selector.RotationVictims(_run.Checkpoints(), limit);

    private string Summary(long step, IReadOnlyDictionary<string, double> e)
    {
        string V(string name, string format = "0.###", double scale = 1) =>
            e.TryGetValue(name, out double v) ? (v * scale).ToString(format, CultureInfo.InvariantCulture) : "n/a";
        var parts = new List<string> { $"eval step {step}: loss {V("eval_loss", "0.####")}" };
        if (e.ContainsKey(CheckpointSelector.AccuracyMetric)) parts.Add($"implicit-reward accuracy {V(CheckpointSelector.AccuracyMetric)}");
        if (e.ContainsKey(HeldOutMonitor.KlName))
        {
            parts.Add($"KL {V(HeldOutMonitor.KlName)} nats");
            parts.Add($"EOS {V(HeldOutMonitor.EosName, "0.#", 100)} %");
            parts.Add($"length {V(HeldOutMonitor.LengthName, "0.#")} (π_ref {V(HeldOutMonitor.RefLengthName, "0.#")})");
        }
        if (_warnings.RunningLogRatio is double lr) parts.Add($"train logratio {lr.ToString("0.###", CultureInfo.InvariantCulture)}");
        return string.Join("; ", parts);
    }

    private void Emit(RunWarning? w)
    {
        if (w is null) return;
        if (w.Step == 0) _warnings.Restore(w); // the start checks are not stream checks; remember them
        if (!_writes) return; // one process prints and writes (the others see the same numbers)
        BeforePrint?.Invoke();
        _log.WriteLine(w.ToString());
        JsonlLog.Append(WarningsFile, w);
    }

    private List<RunWarning> ReadWarnings()
    {
        var list = new List<RunWarning>();
        if (!File.Exists(WarningsFile)) return list;
        foreach (var line in File.ReadLines(WarningsFile))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try { if (JsonSerializer.Deserialize<RunWarning>(line) is { } w) list.Add(w); }
            catch (JsonException) { }
        }
        return list;
    }

    public void Dispose() => _reference.Dispose();
}
