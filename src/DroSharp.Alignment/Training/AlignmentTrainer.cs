using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Objectives;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Lora;
using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Distributed;
using DroSharp.Tensors.Optim;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Trains a policy of any model family (and, when the objective declares one, a value model) on
/// single-trajectory feedback with any objective of <see cref="ObjectiveFactory"/>. One optimiser step
/// is a short pipeline, as in llm.c:
/// <code>
/// for each micro-batch: next batch → forward (policy, value) → objective → backward   (MicroBatchRunner)
/// reduce gradients across processes (no-op in one)  → clip → check finite → step → zero
/// log / evaluate / checkpoint
/// </code>
/// The objective's declaration (<see cref="ObjectiveRequirements"/>) decides what is prepared: the
/// kind of data, positives only, pairs, reference log-probs (computed lazily per micro-batch and
/// cached in the run), a value model. Checkpoints hold everything needed to continue bit for bit;
/// <see cref="Train"/> with <c>resume</c> continues from the newest one.
/// </summary>
public sealed partial class AlignmentTrainer : IDisposable
{
    private static readonly JsonSerializerOptions SnakeCase = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly TrainingOptions _o;
    private readonly Func<IPolicyModel, ITextEncoder?> _encoderFor;
    private readonly TextWriter _log;
    private readonly RunDirectory _run;
    private readonly IAlignmentObjective _objective;
    private readonly ObjectiveRequirements _needs;
    private readonly IGradientReducer _reducer;
    private readonly DataParallelGroup _group;
    private readonly int _accumulation; // micro-batches per process per step

    private LoraModelSet? _lora;
    private IPolicyModel _policy = null!;
    private IValueModel? _value;
    private ReferenceLogProbs? _reference;
    private Optimizer _policyOpt = null!;
    private Optimizer? _valueOpt;
    private TrainingSet _train = null!, _eval = null!;
    private MicroBatchRunner _runner = null!;
    private GradientAccumulator? _accumulator;
    private RunLock? _lock;
    private RunHealth? _health;

    /// <param name="encoder">Encodes text columns (null when the data gives token ids).</param>
    public AlignmentTrainer(TrainingOptions options, ITextEncoder? encoder, TextWriter log, IGradientReducer? reducer = null)
        : this(options, _ => encoder, log, reducer) { }

    /// <param name="encoderFor">The text encoder for the loaded policy (its special tokens decide the conventions), or null.</param>
    public AlignmentTrainer(TrainingOptions options, Func<IPolicyModel, ITextEncoder?> encoderFor, TextWriter log, IGradientReducer? reducer = null)
    {
        options.Validate();
        _o = RunInputs.Absolute(options); // run.json names inputs by absolute path: a resume from elsewhere reads the same files
        _encoderFor = encoderFor;
        _log = log;
        _reducer = reducer ?? LocalGradientReducer.Instance;
        _group = new DataParallelGroup(_reducer);
        _accumulation = options.MicroBatchesPerProcess(_reducer.WorldSize);
        _run = new RunDirectory(options.Out);
        _objective = ObjectiveFactory.Create(options.Algo, options.ObjectiveOptions());
        _needs = _objective.Requirements;
        if (_o.BatchSize < _needs.MinimumBatchSize)
            throw new TrainingException($"{_o.Algo} needs a micro-batch of at least {_needs.MinimumBatchSize} (--batch-size {_o.BatchSize}): {_needs.MinimumBatchReason}");
    }

    public RunDirectory Run => _run;

    /// <summary>Resume even when the model, reference or data files changed since the run started (recorded in RUN/inputs.json).</summary>
    public bool AllowChangedInputs { get; set; }

    /// <summary>Raised before every optimiser step's first micro-batch with the step number to come.</summary>
    public event Action<long>? StepStarting;

    /// <summary>Raised after every optimiser step with the step number (tests use it to interrupt a run).</summary>
    public event Action<long>? StepCompleted;

    private bool WritesFiles => _group.WritesFiles;

    /// <summary>
    /// Matrix-product FLOPs of this process's last optimiser step (forward and backward of the policy
    /// and value networks; see <see cref="MatmulFlops"/>), without the reference and mismatched scoring.
    /// </summary>
    public double LastStepMatmulFlops { get; private set; }

    /// <summary>Trains to the end (or until <paramref name="cancel"/> fires: then a checkpoint is saved and the result says Interrupted).</summary>
    public TrainingResult Train(bool resume, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        StartRunDirectory(resume);
        LoadModels();
        LoadData();
        string? referenceHash = !_needs.NeedsReference ? null : _lora?.ReferenceKey() ?? ModelDirectoryHash.Compute(_o.Ref ?? _o.Model);
        RequireRanksAgree("options, data and models", referenceHash, resumedStep: null);
        try
        {
            PrepareReference(referenceHash, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            if (WritesFiles) _reference?.Save();
            _log.WriteLine($"interrupted during the reference pass, before the first step: the reference log-probs computed so far are cached in {_run.ReferenceCacheFile}; " +
                           "run the same command again to continue (the cached values are reused)");
            return new TrainingResult(0, 0, true, null, null, new Dictionary<string, double>(), clock.Elapsed.TotalSeconds);
        }
        _runner = new MicroBatchRunner(_policy, _value, _objective, _reference, _o.LengthNormalize);
        if (_needs.NeedsSeveralResponsesPerPrompt) ComputePartitionValues();
        _policyOpt = MakeOptimizer(_policy.Parameters.Trainable);
        if (_value is not null) _valueOpt = MakeOptimizer(_value.Parameters.Trainable);
        _accumulator = new GradientAccumulator([.. _policy.Parameters.Trainable, .. _value?.Parameters.Trainable ?? []]);

        int units = _train.UnitCount;
        int perStep = _o.BatchSize * _accumulation * _group.WorldSize;
        if (units < _o.BatchSize)
            throw new TrainingException($"{_o.Data}: {units} training {(_train.Paired ? "pairs" : "examples")} is fewer than one micro-batch (--batch-size {_o.BatchSize})");
        long totalSteps = _o.MaxSteps ?? Math.Max(1, (long)Math.Ceiling(_o.Epochs * units / perStep));
        var plan = RunPlan.Resolve(_o, totalSteps, _eval.UnitCount > 0);
        var kind = LearningRateSchedule.ParseKind(_o.Schedule);
        var schedule = new LearningRateSchedule(kind, _o.LearningRate, plan.WarmupSteps, (int)Math.Min(int.MaxValue, totalSteps));
        var valueSchedule = new LearningRateSchedule(kind, _o.EffectiveValueLearningRate, plan.WarmupSteps, (int)Math.Min(int.MaxValue, totalSteps));
        _health = new RunHealth(_o, _run, plan, _policy, _train, _eval, _needs, CreateReferencePolicy(), _log, WritesFiles);
        // Objectives with a batch statistic (KTO, DRO-P) need full micro-batches: drop a short last batch.
        var sampler = new EpochSampler(units, _o.BatchSize, _o.Seed, shuffle: true, dropLast: _needs.MinimumBatchSize > 1);

        long step = 0, tokensSeen = 0;
        double elapsedBefore = 0;
        var window = new MetricsWindow();
        if (resume)
        {
            long cpStep;
            string cpDir;
            TrainingCheckpoint.TrainerState st;
            if (_group.WorldSize == 1)
            {
                // One process: the newest checkpoint that reads back whole (a damaged newer one is skipped with a warning).
                var cps = _run.Checkpoints();
                if (cps.Count == 0) throw new TrainingException(NoCheckpointToResume);
                (cpStep, cpDir, st) = TrainingCheckpoint.LoadNewestReadable(cps, _policy.Parameters, _value?.Parameters, _policyOpt, _valueOpt, _log);
            }
            else
            {
                (cpStep, cpDir) = CheckpointToResume();
                st = TrainingCheckpoint.Load(cpDir, _policy.Parameters, _value?.Parameters, _policyOpt, _valueOpt);
            }
            if (st.Processes != _group.WorldSize && _o.GlobalBatchSize is null)
                throw new TrainingException($"{cpDir} was written by a run on {st.Processes} process(es) with {_accumulation} micro-batch(es) of {_o.BatchSize} each per step; " +
                                            $"resume it on {st.Processes} (mpirun -np {st.Processes}), or start runs with --global-batch-size to be free to change the number of processes");
            RequireRanksAgree("checkpoint", referenceHash, cpStep);
            (step, tokensSeen, elapsedBefore) = (st.Step, st.TokensSeen, st.ElapsedSeconds);
            try { sampler = EpochSampler.Restore(st.Sampler, units, _o.BatchSize); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { throw new TrainingException($"{cpDir}: {e.Message}", e); }
            window = MetricsWindow.From(st.Window);
            if (WritesFiles) _run.TruncateMetricsAfter(step, evaluationAtStep: step == totalSteps); // the final evaluation runs again
            _log.WriteLine($"resumed from {cpDir} at step {cpStep} of {totalSteps}");
            _health.Resume(_policy, step);
        }
        else
        {
            _health.Start(_policy, _train, policyIsReference: _o.Ref is null || Path.GetFullPath(_o.Ref) == Path.GetFullPath(_o.Model));
        }

        using var tape = new Tape { GradientCheckpointing = _o.GradientCheckpointing };
        using var metrics = WritesFiles ? new StreamWriter(_run.MetricsFile, append: true) : null;
        // A redrawn bar only when the log is this terminal's stderr; plain lines otherwise (files, CI, library callers).
        var progress = new ProgressReporter(_log, ReferenceEquals(_log, Console.Error) && !Console.IsErrorRedirected, step, totalSteps);
        string? lastCheckpoint = _run.Checkpoints().LastOrDefault().Directory;
        IReadOnlyDictionary<string, double> lastMetrics = new Dictionary<string, double>();
        var reduceClock = new Stopwatch(); // time in the cross-process reduction since the last log line
        int reduceSteps = 0;
        long savedAt = -1, evaluatedAt = -1;
        bool stoppedEarly = false;
        string Save()
        {
            savedAt = step;
            return lastCheckpoint = SaveCheckpoint(step, sampler, tokensSeen, elapsedBefore + clock.Elapsed.TotalSeconds, window.ToCheckpoint());
        }
        // Held-out evaluation: the objective on the split, the policy's samples; a new best is checkpointed.
        SortedDictionary<string, double> EvaluateStep()
        {
            var e = Evaluate(tape);
            foreach (var (k, v) in _health.Sample(_policy, step)) e[k] = v;
            WriteMetrics(metrics, step, e);
            evaluatedAt = step;
            if (_health.ObserveEvaluation(step, e) && step != totalSteps && savedAt != step) Save();
            return e;
        }
        _health.BeforePrint = progress.Break;
        if (step == 0 && _eval.UnitCount > 0) EvaluateStep(); // π_ref, the baseline of every curve

        while (step < totalSteps)
        {
            if (_group.AnyRank(cancel.IsCancellationRequested))
            {
                progress.Break();
                Save();
                _log.WriteLine($"interrupted at step {step}: saved {lastCheckpoint}; continue with: {(_group.WorldSize > 1 ? $"mpirun -np {_group.WorldSize} " : "")}dro train --resume {_o.Out}");
                return new TrainingResult(step, totalSteps, true, null, lastCheckpoint, lastMetrics, elapsedBefore + clock.Elapsed.TotalSeconds);
            }

            StepStarting?.Invoke(step + 1);
            // 1–4: micro-batches through forward, objective and backward (this process's share of each).
            var stepMetrics = new ObjectiveMetrics();
            double stepLoss = 0;
            long stepTokens = 0;
            double stepFlops = 0;
            int microBatches = _accumulation * _group.WorldSize;
            // A signal stops within the step (one process): the step is abandoned and the checkpoint is the state before it.
            var samplerAtStepStart = _group.WorldSize == 1 ? sampler.GetState() : null;
            for (int micro = 0; micro < _accumulation && !(samplerAtStepStart is not null && cancel.IsCancellationRequested); micro++)
                for (int rank = 0; rank < _group.WorldSize; rank++)
                {
                    var batch = sampler.Next(); // every process draws every batch, so samplers stay in step
                    if (rank != _group.Rank) continue;
                    _lora?.SetDropoutSeed(LoraDropoutSeed(step, micro, rank));
                    _accumulator.Begin(micro);
                    var r = _runner.Run(_train, train: true, batch.Indices, 1.0 / microBatches, tape);
                    _accumulator.End(micro);
                    stepMetrics.Merge(r.Metrics);
                    stepLoss += r.Loss / microBatches;
                    stepTokens += r.Tokens;
                    stepFlops += r.MatmulFlops;
                }
            LastStepMatmulFlops = stepFlops;
            if (samplerAtStepStart is not null && cancel.IsCancellationRequested)
            {
                sampler = EpochSampler.Restore(samplerAtStepStart, units, _o.BatchSize);
                _policyOpt.ZeroGrad(setToNone: false);
                _valueOpt?.ZeroGrad(setToNone: false);
                continue; // saved and returned at the top of the loop
            }
            // 5: reduce, clip, step.
            double loss;
            reduceClock.Start();
            (loss, stepTokens, stepMetrics) = ReduceGradientsAndTotals(stepLoss, stepTokens, stepMetrics);
            reduceClock.Stop();
            reduceSteps++;
            double policyNorm = Clip(_policy.Parameters.Trainable);
            double valueNorm = _value is null ? 0 : Clip(_value.Parameters.Trainable);
            if (!double.IsFinite(loss) || !double.IsFinite(policyNorm) || !double.IsFinite(valueNorm))
            {
                progress.Break();
                throw new TrainingException($"the loss became {(double.IsFinite(loss) ? "finite but a gradient norm is " + (double.IsFinite(policyNorm) ? valueNorm : policyNorm) : loss.ToString())} at step {step + 1}; " +
                                            $"training stopped before updating the weights. Last good checkpoint: {lastCheckpoint ?? "none (no checkpoint was saved yet)"}. " +
                                            "Try a lower --lr or --tau/--beta, or check the rewards.");
            }
            double lr = schedule.LearningRate(step);
            _policyOpt.Step(lr);
            _valueOpt?.Step(valueSchedule.LearningRate(step));
            _policyOpt.ZeroGrad(setToNone: false);
            _valueOpt?.ZeroGrad(setToNone: false);
            step++;
            tokensSeen += stepTokens;
            StepCompleted?.Invoke(step);

            // 6: log, evaluate, checkpoint.
            window.Add(loss, stepMetrics, stepTokens);
            bool logStep = step % _o.LogEvery == 0 || step == totalSteps;
            progress.Update(step, window.MeanLoss, window.TokensPerSecond, logStep);
            if (logStep)
            {
                var line = window.Flush();
                // Under MPI: seconds per step in the cross-process sums (rank 0's clock, this window; includes waiting for the slowest rank).
                if (_group.WorldSize > 1) line["allreduce_s"] = reduceClock.Elapsed.TotalSeconds / reduceSteps;
                reduceClock.Reset();
                reduceSteps = 0;
                line["learning_rate"] = lr;
                line["grad_norm"] = policyNorm;
                line["epoch"] = sampler.Epoch + (double)sampler.Position / units;
                if (_value is not null) { line["value/grad_norm"] = valueNorm; line["value/learning_rate"] = valueSchedule.LearningRate(step - 1); }
                _health.ObserveTraining(step, line);
                WriteMetrics(metrics, step, line);
                lastMetrics = line;
            }
            if (_eval.UnitCount > 0 && plan.IsEvaluationStep(step)) EvaluateStep();
            if (_o.SaveEvery > 0 && step % _o.SaveEvery == 0 && step != totalSteps && savedAt != step) Save();
            if (_health.ShouldStop)
            {
                progress.Break();
                _log.WriteLine($"early stop at step {step}: {_health.Selector.Metric} has not improved for {_health.Selector.EvaluationsWithoutImprovement} evaluations (--early-stop-patience)");
                stoppedEarly = true;
                break;
            }
        }

        if (_eval.UnitCount > 0)
        {
            var eval = evaluatedAt == step ? null : EvaluateStep();
            var merged = new Dictionary<string, double>(lastMetrics);
            foreach (var (k, v) in eval ?? []) merged[k] = v;
            lastMetrics = merged;
        }
        if (savedAt != step) Save();
        _health.Finish(_policy, _value, step, stoppedEarly);
        if (WritesFiles) SaveFinal();
        _log.WriteLine($"activation memory: {tape.Arena.HighWaterBytes / (1024.0 * 1024):F0} MiB at the largest micro-batch");
        return new TrainingResult(step, totalSteps, false, _run.FinalDirectory, lastCheckpoint, lastMetrics, elapsedBefore + clock.Elapsed.TotalSeconds);
    }

    // ---------------------------------------------------------------- set-up

    private void StartRunDirectory(bool resume)
    {
        var inputs = RunInputs.Compute(_o); // missing or unreadable inputs fail here, before the run directory is touched
        if (WritesFiles)
        {
            if (File.Exists(_run.Path)) throw new TrainingException($"--out {_run.Path} is a file; a run is written to a directory");
            Directory.CreateDirectory(_run.Path);
            _lock = RunLock.Acquire(_run.Path); // one writer per run directory, released by the OS if this process dies
            foreach (var path in _run.RemoveStaleTemporaries()) _log.WriteLine($"removed {path}, left by an interrupted run");
        }
        if (resume)
        {
            if (_run.Checkpoints().Count == 0) throw new TrainingException(NoCheckpointToResume);
            RunInputs.Verify(_run, inputs, AllowChangedInputs, WritesFiles, _log);
            return;
        }
        if (!WritesFiles) return;
        if (_run.Checkpoints().Count > 0 || Directory.Exists(_run.FinalDirectory))
            throw new TrainingException($"{_run.Path} already holds a run; use --resume {_o.Out} to continue it, or another --out");
        RunDirectory.WriteTextAtomic(_run.OptionsFile, _o.ToJson());
        RunInputs.Record(_run, inputs);
        if (File.Exists(_run.MetricsFile)) File.Delete(_run.MetricsFile);
    }

    private string NoCheckpointToResume =>
        $"{_run.Path} has no checkpoint yet (the run stopped before its first save), so there is nothing to resume: " +
        "run the original command again, without --resume (it reuses the cached reference log-probs)";

    private void LoadModels()
    {
        _lora = LoadLora(); // null without --lora
        _policy = _lora?.Policy ?? ModelFamilies.LoadPolicy(_o.Model);
        if (!_needs.NeedsValueNetwork) return;
        var kind = _needs.ValueMode switch
        {
            DroValueMode.PerExample => ValueModelKind.OwnBackbone,
            DroValueMode.Single => ValueModelKind.Scalar,
            DroValueMode.Shared => ValueModelKind.SharedBackbone,
            _ => throw new ArgumentOutOfRangeException(nameof(_needs.ValueMode)),
        };
        var rng = new DeterministicRandom(_o.Seed ^ 0x5EED_0F_7A1EUL);
        _value = _lora?.CreateValueModel(kind, rng) ?? _policy.Family.CreateValueModel(_policy, kind, rng);
    }

    private void LoadData()
    {
        TrainingData data;
        try
        {
            data = TrainingDataLoader.Load(new TrainingDataOptions
            {
                DataPath = _o.Data,
                EvalDataPath = _o.EvalData,
                EvalFraction = _o.EvalFraction,
                Seed = _o.Seed,
                SkipBadRows = _o.SkipBadRows,
                MaxPromptLength = _o.MaxPromptLength,
                MaxCompletionLength = _o.MaxCompletionLength,
                NormalizeRewards = _o.NormalizeRewards,
                UpReward = _o.UpReward,
                DownReward = _o.DownReward,
                Requirement = _needs.Data,
                Purpose = _o.Algo,
                BosId = _policy.Tokens.BosId,
                EndIds = _policy.Tokens.StopIds,
                VocabSize = _policy.Config.VocabSize,
            }, _encoderFor(_policy));
        }
        catch (DataFormatException e)
        {
            throw new TrainingException(e.Message, e);
        }
        foreach (var w in data.Warnings) _log.WriteLine($"warning: {w}");
        if (WritesFiles)
            RunDirectory.WriteTextAtomic(_run.DataReportFile, JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["train"] = data.Train.Summary,
                ["eval"] = data.Eval?.Summary,
                ["skipped_rows"] = data.SkippedRows,
                ["warnings"] = data.Warnings,
            }, SnakeCase));
        _log.WriteLine(data.Train.Summary.ToString());
        if (data.Eval is not null) _log.WriteLine(data.Eval.Summary.ToString());
        if (data.SkippedRows.Count > 0) _log.WriteLine($"skipped {data.SkippedRows.Count} bad rows (listed in {_run.DataReportFile})");

        _train = TrainingSet.From(data.Train, _needs.NeedsPairs);
        _eval = data.Eval is null ? TrainingSet.Empty(_needs.NeedsPairs) : TrainingSet.From(data.Eval, _needs.NeedsPairs);
        if (_needs.PositivesOnly)
        {
            // "Positive": thumbs up, or a reward above the training split's mean (normalised or not).
            double threshold = _train.MeanReward;
            _train = _train.Positives(threshold)
                ?? throw new TrainingException($"{_o.Data}: {_o.Algo} needs positive rows (thumbs up, or a reward above the training mean {threshold:G4}) and the training data has none");
            if (_eval.UnitCount > 0) _eval = _eval.Positives(threshold) ?? TrainingSet.Empty(false);
        }
        if (_needs.NeedsLabels)
        {
            if (_train.Rows.Any(r => r.Label is null)) throw new TrainingException($"{_o.Data}: {_needs.MissingLabelsHint}");
            int up = _train.Rows.Count(r => r.Label == true);
            foreach (var w in _objective.LabelBalanceWarnings(up, _train.Rows.Length - up)) _log.WriteLine($"warning: {w}");
        }
        if (_eval.UnitCount > 0 && _eval.UnitCount < _needs.MinimumBatchSize)
        {
            _log.WriteLine($"warning: the evaluation split has {_eval.UnitCount} {(_eval.Paired ? "pairs" : "rows")}, fewer than {_o.Algo}'s minimum micro-batch of {_needs.MinimumBatchSize}; it is not evaluated");
            _eval = TrainingSet.Empty(_needs.NeedsPairs);
        }
    }

    private void PrepareReference(string? referenceHash, CancellationToken cancel)
    {
        if (referenceHash is null) return;
        string refDir = _o.Ref ?? _o.Model;
        _reference = _lora is { } lora // the base with adapters off: no second model
            ? new ReferenceLogProbs(_run.ReferenceCacheFile, referenceHash, _train, _eval, () => lora.Reference, _o.BatchSize, _o.LengthNormalize,
                _o.PrecomputeReference, keepModel: true)
            : new ReferenceLogProbs(_run.ReferenceCacheFile, referenceHash, _train, _eval,
                () => ModelFamilies.LoadPolicy(refDir), _o.BatchSize, _o.LengthNormalize, _o.PrecomputeReference,
                keepModel: _needs.NeedsMismatchedLogProbs);
        int cached = _reference.LoadShared(_group);
        if (cached > 0) _log.WriteLine($"reference log-probs: reusing {cached} cached values from {_run.ReferenceCacheFile}");
        // RPO's partition values need every reference log-prob before the first step.
        if (_o.PrecomputeReference || _needs.NeedsSeveralResponsesPerPrompt)
        {
            _reference.ComputeAll(_log, _group, cancel);
            if (WritesFiles) _reference.Save();
        }
    }

    private void ComputePartitionValues()
    {
        _runner.TrainPartition = Partition(_train, train: true, "training");
        if (_eval.Rows.Length > 0) _runner.EvalPartition = Partition(_eval, train: false, "evaluation");
    }

    private double[] Partition(TrainingSet set, bool train, string what)
    {
        var refLogp = _reference!.For(train, Enumerable.Range(0, set.Rows.Length).ToArray());
        try
        {
            var pv = RpoObjective.EstimatePartitionValues(set.Rows.Select(r => r.PromptGroup).ToArray(), refLogp, set.Rows.Select(r => r.Reward).ToArray(), _o.Tau);
            if (pv.SingletonPromptCount > 0)
                _log.WriteLine($"{_o.Algo}: {pv.SingletonPromptCount} of {pv.PromptCount} {what} prompts have a single response (their target is log π = log π_ref + (r − V̂)/τ with V̂ from that response alone)");
            return pv.Values;
        }
        catch (ArgumentException e)
        {
            throw new TrainingException($"{_o.Algo} needs several responses per prompt, and the {what} data has none with more than one: {e.Message}", e);
        }
    }

    /// <summary>π_ref for the held-out monitor (scoring the policy's samples, sampling π_ref itself).</summary>
    private IReferencePolicy CreateReferencePolicy() => new DirectoryReferencePolicy(_o.Ref ?? _o.Model);

    private Optimizer MakeOptimizer(IReadOnlyList<Tensor> parameters) => _o.Optimizer == "adafactor"
        // As the HF Trainer's optim="adafactor": external LR, no parameter scaling; decay rate −0.8 (the DRO paper's "0.8").
        ? new Adafactor(parameters, weightDecay: _o.WeightDecay, scaleParameter: false)
        : new AdamW(parameters, weightDecay: _o.WeightDecay);

    // ---------------------------------------------------------------- the step's reduction and clipping

    /// <summary>
    /// The gradient-reducer hook: sums the trainable gradients (already scaled by 1/(micro-batches ×
    /// processes)), the step's loss, token count and metrics across processes, and shares the
    /// reference log-probs each process computed. In one process it changes nothing.
    /// </summary>
    private (double Loss, long Tokens, ObjectiveMetrics Metrics) ReduceGradientsAndTotals(double loss, long tokens, ObjectiveMetrics metrics)
    {
        _reference?.Share(_group); // one process: forgets which values were new
        if (_group.WorldSize == 1) return (loss, tokens, metrics);
        _group.SumGradients([.. _policy.Parameters.Trainable, .. _value?.Parameters.Trainable ?? []]);
        return _group.SumTotals(loss, tokens, metrics);
    }

    /// <summary>
    /// The newest complete checkpoint, as rank 0 sees it: every rank loads that one (the run directory
    /// must be on a filesystem every process can read).
    /// </summary>
    private (long Step, string Directory) CheckpointToResume()
    {
        Span<double> step = [-1];
        if (WritesFiles)
        {
            var cps = _run.Checkpoints();
            if (cps.Count == 0) throw new TrainingException(NoCheckpointToResume);
            step[0] = cps[^1].Step;
        }
        _group.BroadcastFromRankZero(step);
        string dir = _run.CheckpointDirectory((long)step[0]);
        if (!File.Exists(Path.Combine(dir, TrainingCheckpoint.StateFileName)))
            throw new TrainingException($"rank {_group.Rank} of {_group.WorldSize} cannot read {dir}, the checkpoint rank 0 resumes from: " +
                                        "every process reads the run directory, so --out must be on a filesystem all machines share (or copied to the same path on each)");
        return ((long)step[0], dir);
    }

    /// <summary>
    /// Under several processes: stops the job unless every rank has the same options, data and
    /// weights (and, after a resume, the same checkpoint) as rank 0. Nothing to check in one process.
    /// </summary>
    private void RequireRanksAgree(string what, string? referenceHash, long? resumedStep)
    {
        if (_group.WorldSize == 1) return;
        var facts = new List<(string, string)>
        {
            ("options", (_o with { Out = Path.GetFullPath(_o.Out) }).ToJson()),
            ("training data (token ids)", _train.Fingerprint()),
            ("evaluation data (token ids)", _eval.Fingerprint()),
            ("policy weights", DataParallelGroup.ParameterDigest(_policy.Parameters.All)),
            ("value weights", _value is null ? "" : DataParallelGroup.ParameterDigest(_value.Parameters.All)),
            ("reference model files", referenceHash ?? ""),
        };
        if (resumedStep is { } step) facts.Add(("checkpoint step", step.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        _group.RequireAgreement(facts, $"every process must read the same {what}; " +
                                       "give every machine the same --model, --ref, --data and run directory (a shared filesystem, or copies at the same paths)");
    }

    private double Clip(IReadOnlyList<Tensor> parameters) => _o.MaxGradNorm > 0
        ? GradientClipping.ClipGlobalNorm(parameters, _o.MaxGradNorm)
        : GradientClipping.GlobalNorm(parameters);

    // ---------------------------------------------------------------- evaluation, logging, saving

    /// <summary>The objective and its metrics on the held-out split, no gradients, as <c>eval_*</c>.</summary>
    private SortedDictionary<string, double> Evaluate(Tape tape)
    {
        var metrics = new ObjectiveMetrics();
        double loss = 0;
        int batches = 0;
        int units = _eval.UnitCount;
        var logRatios = new List<double>();
        var positive = new List<bool>();
        double threshold = _train.MeanReward;
        var chunks = new List<int[]>();
        for (int s = 0; s < units; s += _o.BatchSize) chunks.Add(Enumerable.Range(s, Math.Min(_o.BatchSize, units - s)).ToArray());
        // A last chunk below the objective's minimum joins the one before it.
        if (chunks.Count > 1 && chunks[^1].Length < _needs.MinimumBatchSize) { chunks[^2] = [.. chunks[^2], .. chunks[^1]]; chunks.RemoveAt(chunks.Count - 1); }
        // With several processes, chunk c is evaluated by rank c mod N and the sums are reduced.
        for (int c = 0; c < chunks.Count; c++)
        {
            if (c % _group.WorldSize != _group.Rank) continue;
            var r = _runner.Run(_eval, train: false, chunks[c], 1.0, tape);
            metrics.Merge(r.Metrics);
            if (r.LogRatios is { } lr)
            {
                logRatios.AddRange(lr);
                positive.AddRange(_eval.Expand(chunks[c]).Rows.Select(i => _eval.Rows[i].Label ?? _eval.Rows[i].Reward > threshold));
            }
            loss += r.Loss;
            batches++;
        }
        _reference?.Share(_group);
        long allBatches;
        (loss, allBatches, metrics) = _group.SumTotals(loss, batches, metrics);
        if (_group.WorldSize > 1)
        {
            // Every process needs every held-out log-ratio for the accuracy (it drives the same selection on every rank).
            double[] mine = [.. logRatios.SelectMany((v, i) => new[] { v, positive[i] ? 1.0 : 0.0 })];
            logRatios.Clear();
            positive.Clear();
            foreach (double[] theirs in _group.AllGather(mine))
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

    private static void WriteMetrics(StreamWriter? w, long step, IDictionary<string, double> values)
    {
        if (w is null) return;
        var obj = new SortedDictionary<string, object>(StringComparer.Ordinal) { ["step"] = step };
        foreach (var (k, v) in values) obj[k] = double.IsFinite(v) ? v : v.ToString();
        w.WriteLine(JsonSerializer.Serialize(obj));
        w.Flush();
    }

    private string SaveCheckpoint(long step, EpochSampler sampler, long tokens, double elapsed, TrainingCheckpoint.LogWindow window)
    {
        string dir = _run.CheckpointDirectory(step);
        if (!WritesFiles) return dir;
        _reference?.Save();
        TrainingCheckpoint.Save(dir, new TrainingCheckpoint.TrainerState(step, sampler.GetState(), tokens, elapsed, window, _group.WorldSize),
            _policy, _value, _policyOpt, _valueOpt);
        if (_o.SaveTotalLimit > 0)
            foreach (string victim in _health!.RotationVictims(_o.SaveTotalLimit).ToList()) Directory.Delete(victim, recursive: true);
        return dir;
    }

    /// <summary>Files of the model directory that <c>final/</c> carries over unchanged (tokenizer, template).</summary>
    private static readonly string[] CarriedFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model", "chat_template.jinja", "generation_config.json"];

    /// <summary>RUN/final: the policy as an HF model directory (with the tokenizer), the value model in final/value.</summary>
    private void SaveFinal()
    {
        string final = _run.FinalDirectory;
        string tmp = final + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            _policy.Save(tmp);
            foreach (var name in CarriedFiles)
            {
                string src = Path.Combine(_o.Model, name), dst = Path.Combine(tmp, name);
                if (File.Exists(src) && !File.Exists(dst)) File.Copy(src, dst);
            }
            // The template the run rendered its conversations with wins over the model's, as in transformers' loading order.
            if (_o.ChatTemplate is string template && File.Exists(template)) File.Copy(template, Path.Combine(tmp, "chat_template.jinja"), overwrite: true);
            _value?.Save(Path.Combine(tmp, "value"));
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(tmp, final);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    public void Dispose()
    {
        _policyOpt?.Dispose();
        _valueOpt?.Dispose();
        _accumulator?.Dispose();
        _policy?.Dispose();
        _value?.Dispose();
        _reference?.Dispose();
        _lock?.Dispose();
        _health?.Dispose();
    }
}
