using System.Diagnostics;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Objectives;
using DroSharp.Models;
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
/// <see cref="Train"/> with <c>resume</c> continues from the newest one. The parts: the set-up and
/// what it loads (<see cref="TrainingSession"/>), the resume (<see cref="TrainingResume"/>), the
/// held-out evaluation (<see cref="HeldOutEvaluation"/>), what the run writes (<see cref="RunWriter"/>).
/// </summary>
public sealed partial class AlignmentTrainer : IDisposable
{
    private readonly TrainingOptions _o;
    private readonly TextWriter _log;
    private readonly RunDirectory _run;
    private readonly IAlignmentObjective _objective;
    private readonly ObjectiveRequirements _needs;
    private readonly IGradientReducer _reducer;
    private readonly DataParallelGroup _group;
    private readonly int _accumulation; // micro-batches per process per step
    private readonly TrainingSession _session; // the run directory, models, data and reference

    private Optimizer _policyOpt = null!;
    private Optimizer? _valueOpt;
    private MicroBatchRunner _runner = null!;
    private GradientAccumulator? _accumulator;
    private RunHealth? _health;

    /// <param name="encoder">Encodes text columns (null when the data gives token ids).</param>
    public AlignmentTrainer(TrainingOptions options, ITextEncoder? encoder, TextWriter log, IGradientReducer? reducer = null)
        : this(options, _ => encoder, log, reducer) { }

    /// <param name="encoderFor">The text encoder for the loaded policy (its special tokens decide the conventions), or null.</param>
    public AlignmentTrainer(TrainingOptions options, Func<IPolicyModel, ITextEncoder?> encoderFor, TextWriter log, IGradientReducer? reducer = null)
    {
        options.Validate();
        _o = RunInputs.Absolute(options); // run.json names inputs by absolute path: a resume from elsewhere reads the same files
        _log = log;
        _reducer = reducer ?? LocalGradientReducer.Instance;
        _group = new DataParallelGroup(_reducer);
        _accumulation = options.MicroBatchesPerProcess(_reducer.WorldSize);
        _run = new RunDirectory(options.Out);
        _objective = ObjectiveFactory.Create(options.Algo, options.ObjectiveOptions());
        _needs = _objective.Requirements;
        if (_o.BatchSize < _needs.MinimumBatchSize)
            throw new TrainingException($"{_o.Algo} needs a micro-batch of at least {_needs.MinimumBatchSize} (--batch-size {_o.BatchSize}): {_needs.MinimumBatchReason}");
        _session = new TrainingSession(_o, _objective, _group, _run, encoderFor, log);
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

    /// <summary>The forward FLOPs activation checkpointing ran a second time in the last step (0 without it).</summary>
    public double LastStepRecomputedFlops { get; private set; }

    /// <summary>Trains to the end (or until <paramref name="cancel"/> fires: then a checkpoint is saved and the result says Interrupted).</summary>
    public TrainingResult Train(bool resume, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        // Set up: the run directory, the models, the data, the reference log-probs.
        _session.StartRunDirectory(resume, AllowChangedInputs);
        _session.LoadModels();
        _session.LoadData();
        var (policy, value, train, eval) = (_session.Policy, _session.Value, _session.Train, _session.Eval);
        string? referenceHash = _session.ReferenceHash();
        _session.RequireRanksAgree("options, data and models", referenceHash, resumedStep: null);
        try
        {
            _session.PrepareReference(referenceHash, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            if (WritesFiles) _session.Reference?.Save();
            _log.WriteLine($"interrupted during the reference pass, before the first step: the reference log-probs computed so far are cached in {_run.ReferenceCacheFile}; " +
                           "run the same command again to continue (the cached values are reused)");
            return new TrainingResult(0, 0, true, null, null, new Dictionary<string, double>(), clock.Elapsed.TotalSeconds);
        }
        _runner = new MicroBatchRunner(policy, value, _objective, _session.Reference, _o.LengthNormalize);
        if (_needs.NeedsSeveralResponsesPerPrompt) _session.ComputePartitionValues(_runner);
        _policyOpt = MakeOptimizer(policy.Parameters.Trainable);
        if (value is not null) _valueOpt = MakeOptimizer(value.Parameters.Trainable);
        _accumulator = new GradientAccumulator(_session.Trainable);

        int units = train.UnitCount;
        int perStep = _o.BatchSize * _accumulation * _group.WorldSize;
        if (units < _o.BatchSize)
            throw new TrainingException($"{_o.Data}: {units} training {(train.Paired ? "pairs" : "examples")} is fewer than one micro-batch (--batch-size {_o.BatchSize})");
        long totalSteps = _o.MaxSteps ?? Math.Max(1, (long)Math.Ceiling(_o.Epochs * units / perStep));
        var plan = RunPlan.Resolve(_o, totalSteps, eval.UnitCount > 0);
        var kind = LearningRateSchedule.ParseKind(_o.Schedule);
        var schedule = new LearningRateSchedule(kind, _o.LearningRate, plan.WarmupSteps, (int)Math.Min(int.MaxValue, totalSteps));
        var valueSchedule = new LearningRateSchedule(kind, _o.EffectiveValueLearningRate, plan.WarmupSteps, (int)Math.Min(int.MaxValue, totalSteps));
        _health = new RunHealth(_o, _run, plan, policy, train, eval, _needs, CreateReferencePolicy(), _log, WritesFiles);
        // Objectives with a batch statistic (KTO, DRO-P) need full micro-batches: drop a short last batch.
        var sampler = new EpochSampler(units, _o.BatchSize, _o.Seed, shuffle: true, dropLast: _needs.MinimumBatchSize > 1);

        // Resume from the newest checkpoint, or start.
        long step = 0, tokensSeen = 0;
        double elapsedBefore = 0;
        var window = new MetricsWindow();
        if (resume)
        {
            var from = TrainingResume.Load(_session, _policyOpt, _valueOpt, _accumulation, referenceHash, units, totalSteps);
            (step, tokensSeen, elapsedBefore, sampler, window) = (from.Step, from.TokensSeen, from.ElapsedSeconds, from.Sampler, from.Window);
            _health.Resume(policy, step);
        }
        else
        {
            _health.Start(policy, train, policyIsReference: _o.Ref is null || Path.GetFullPath(_o.Ref) == Path.GetFullPath(_o.Model));
        }

        using var tape = new Tape { GradientCheckpointing = _o.GradientCheckpointing };
        using var output = new RunWriter(_session, _policyOpt, _valueOpt, _health);
        var heldOut = new HeldOutEvaluation(_session, _runner);
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
            return lastCheckpoint = output.SaveCheckpoint(step, sampler, tokensSeen, elapsedBefore + clock.Elapsed.TotalSeconds, window.ToCheckpoint());
        }
        // Held-out evaluation: the objective on the split, the policy's samples; a new best is checkpointed.
        SortedDictionary<string, double> EvaluateStep()
        {
            var e = heldOut.Evaluate(tape);
            foreach (var (k, v) in _health.Sample(policy, step)) e[k] = v;
            output.WriteMetrics(step, e);
            evaluatedAt = step;
            if (_health.ObserveEvaluation(step, e) && step != totalSteps && savedAt != step) Save();
            return e;
        }
        _health.BeforePrint = progress.Break;
        if (step == 0 && eval.UnitCount > 0) EvaluateStep(); // π_ref, the baseline of every curve

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
            double stepFlops = 0, stepRecomputed = 0;
            int microBatches = _accumulation * _group.WorldSize;
            // A signal stops within the step (one process): the step is abandoned and the checkpoint is the state before it.
            var samplerAtStepStart = _group.WorldSize == 1 ? sampler.GetState() : null;
            for (int micro = 0; micro < _accumulation && !(samplerAtStepStart is not null && cancel.IsCancellationRequested); micro++)
                for (int rank = 0; rank < _group.WorldSize; rank++)
                {
                    var batch = sampler.Next(); // every process draws every batch, so samplers stay in step
                    if (rank != _group.Rank) continue;
                    _session.Lora?.SetDropoutSeed(LoraDropoutSeed(step, micro, rank));
                    _accumulator.Begin(micro);
                    var r = _runner.Run(train, train: true, batch.Indices, 1.0 / microBatches, tape);
                    _accumulator.End(micro);
                    stepMetrics.Merge(r.Metrics);
                    stepLoss += r.Loss / microBatches;
                    stepTokens += r.Tokens;
                    stepFlops += r.MatmulFlops;
                    stepRecomputed += r.RecomputedFlops;
                }
            LastStepMatmulFlops = stepFlops;
            LastStepRecomputedFlops = stepRecomputed;
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
            double policyNorm = Clip(policy.Parameters.Trainable);
            double valueNorm = value is null ? 0 : Clip(value.Parameters.Trainable);
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
                if (value is not null) { line["value/grad_norm"] = valueNorm; line["value/learning_rate"] = valueSchedule.LearningRate(step - 1); }
                _health.ObserveTraining(step, line);
                output.WriteMetrics(step, line);
                lastMetrics = line;
            }
            if (eval.UnitCount > 0 && plan.IsEvaluationStep(step)) EvaluateStep();
            if (_o.SaveEvery > 0 && step % _o.SaveEvery == 0 && step != totalSteps && savedAt != step) Save();
            if (_health.ShouldStop)
            {
                progress.Break();
                _log.WriteLine($"early stop at step {step}: {_health.Selector.Metric} has not improved for {_health.Selector.EvaluationsWithoutImprovement} evaluations (--early-stop-patience)");
                stoppedEarly = true;
                break;
            }
        }

        // Finish: the last evaluation and checkpoint, the run's verdict, final/.
        if (eval.UnitCount > 0)
        {
            var last = evaluatedAt == step ? null : EvaluateStep();
            var merged = new Dictionary<string, double>(lastMetrics);
            foreach (var (k, v) in last ?? []) merged[k] = v;
            lastMetrics = merged;
        }
        if (savedAt != step) Save();
        long? selectedStep = _health.Finish(policy, value, step, stoppedEarly);
        output.SaveFinal();
        _log.WriteLine($"activation memory: {tape.Arena.HighWaterBytes / (1024.0 * 1024):F0} MiB at the largest micro-batch");
        return new TrainingResult(step, totalSteps, false, _run.FinalDirectory, lastCheckpoint, lastMetrics, elapsedBefore + clock.Elapsed.TotalSeconds, selectedStep);
    }

    // ---------------------------------------------------------------- optimisers, π_ref for the monitor

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
        _session.Reference?.Share(_group); // one process: forgets which values were new
        if (_group.WorldSize == 1) return (loss, tokens, metrics);
        _group.SumGradients(_session.Trainable);
        return _group.SumTotals(loss, tokens, metrics);
    }

    private double Clip(IReadOnlyList<Tensor> parameters) => _o.MaxGradNorm > 0
        ? GradientClipping.ClipGlobalNorm(parameters, _o.MaxGradNorm)
        : GradientClipping.GlobalNorm(parameters);

    public void Dispose()
    {
        _policyOpt?.Dispose();
        _valueOpt?.Dispose();
        _accumulator?.Dispose();
        _session.Dispose(); // the models, the reference, the run directory's lock
        _health?.Dispose();
    }
}
