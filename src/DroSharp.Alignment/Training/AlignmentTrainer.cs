using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Objectives;
using PreferencePair = DroSharp.Alignment.Objectives.PreferencePair;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.T5;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;
using DroSharp.Tensors.Optim;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Trains a T5 policy (and for DRO-V a value model) on single-trajectory feedback with any objective
/// of <see cref="ObjectiveFactory"/>. One optimiser step = <c>grad_accum</c> micro-batches; each
/// micro-batch: policy log-probs log πθ(y|x) (summed over completion tokens) on one tape, values
/// V_φ(x) on another, the objective's loss and gradients, and backward through both. Reference
/// log-probs are computed once, before the first step, and cached in the run bound to hashes of the
/// reference weights and of the tokenised data. Checkpoints hold everything needed to continue bit
/// for bit; <see cref="Run"/> with <c>resume</c> continues from the newest one.
/// </summary>
public sealed class AlignmentTrainer : IDisposable
{
    private readonly TrainingOptions _o;
    private readonly ITextEncoder? _encoder;
    private readonly TextWriter _log;
    private readonly RunDirectory _run;
    private readonly IAlignmentObjective _objective;
    private readonly ObjectiveRequirements _needs;

    private T5ForConditionalGeneration _policy = null!;
    private T5ForConditionalGeneration? _reference;        // kept only when KTO needs mismatched reference log-probs
    private T5ValueModel? _valueModel;                      // --value per-example
    private ParameterSet? _valueParams;                      // value model's, or the head / scalar of the other modes
    private Tensor? _valueScalar;                           // --value single
    private Tensor? _sharedHeadWeight, _sharedHeadBias;     // --value shared
    private Optimizer _policyOpt = null!;
    private Optimizer? _valueOpt;

    private TrainingData _data = null!;
    private TrainingRow[] _trainRows = Array.Empty<TrainingRow>();
    private TrainingRow[] _evalRows = Array.Empty<TrainingRow>();
    private (int Chosen, int Rejected)[] _trainPairs = Array.Empty<(int, int)>();
    private (int Chosen, int Rejected)[] _evalPairs = Array.Empty<(int, int)>();
    private double[] _trainRef = Array.Empty<double>(), _evalRef = Array.Empty<double>();
    private double[]? _trainPartition, _evalPartition;

    public AlignmentTrainer(TrainingOptions options, ITextEncoder? encoder, TextWriter log)
    {
        options.Validate();
        _o = options;
        _encoder = encoder;
        _log = log;
        _run = new RunDirectory(options.Out);
        _objective = ObjectiveFactory.Create(options.Algo, options.ObjectiveOptions());
        _needs = _objective.Requirements;
        if (_o.BatchSize < _needs.MinimumBatchSize)
            throw new TrainingException($"{_o.Algo} needs a micro-batch of at least {_needs.MinimumBatchSize} (--batch-size {_o.BatchSize}): " +
                                        (_o.Algo == "kto" ? "KTO's KL estimate pairs each prompt with another example's completion inside the micro-batch" : "the loss is a batch statistic"));
    }

    public RunDirectory Run => _run;

    /// <summary>Raised after every optimiser step with the step number (tests use it to interrupt a run).</summary>
    public event Action<long>? StepCompleted;

    /// <summary>Trains to the end (or until <paramref name="cancel"/> fires: then a checkpoint is saved and the result says Interrupted).</summary>
    public TrainingResult Train(bool resume, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(_run.Path);
        if (!resume)
        {
            if (_run.Checkpoints().Count > 0 || Directory.Exists(_run.FinalDirectory))
                throw new TrainingException($"{_run.Path} already holds a run; use --resume {_o.Out} to continue it, or another --out");
            RunDirectory.WriteTextAtomic(_run.OptionsFile, _o.ToJson());
            if (File.Exists(_run.MetricsFile)) File.Delete(_run.MetricsFile);
        }

        LoadModels();
        LoadData();
        ComputeReferenceLogProbs();
        BuildOptimizers();

        int units = UnitCount(train: true);
        int perStep = _o.BatchSize * _o.GradientAccumulation;
        if (units < _o.BatchSize)
            throw new TrainingException($"{_o.Data}: {units} training {(_needs.NeedsPairs ? "pairs" : "examples")} is fewer than one micro-batch (--batch-size {_o.BatchSize})");
        long totalSteps = _o.MaxSteps ?? Math.Max(1, (long)Math.Ceiling(_o.Epochs * units / perStep));
        var schedule = new LearningRateSchedule(LearningRateSchedule.ParseKind(_o.Schedule), _o.LearningRate, _o.WarmupSteps, (int)Math.Min(int.MaxValue, totalSteps));
        var valueSchedule = new LearningRateSchedule(LearningRateSchedule.ParseKind(_o.Schedule), _o.EffectiveValueLearningRate, _o.WarmupSteps, (int)Math.Min(int.MaxValue, totalSteps));
        // KTO and DRO-P need full micro-batches (a batch statistic over ≥ 2 rows): drop a short last batch.
        bool dropLast = _needs.MinimumBatchSize > 1;
        var sampler = new EpochSampler(units, _o.BatchSize, _o.Seed, shuffle: true, dropLast: dropLast);

        long step = 0, tokensSeen = 0;
        double elapsedBefore = 0;
        var window = new ObjectiveMetrics();
        double windowLoss = 0; int windowCount = 0; long windowTokens = 0;
        if (resume)
        {
            var cps = _run.Checkpoints();
            if (cps.Count == 0) throw new TrainingException($"{_run.Path} has no complete checkpoint to resume from");
            var (cpStep, cpDir) = cps[^1];
            var st = TrainingCheckpoint.Load(cpDir, _policy.Parameters, _valueParams, _policyOpt, _valueOpt);
            step = st.Step;
            tokensSeen = st.TokensSeen;
            elapsedBefore = st.ElapsedSeconds;
            sampler = EpochSampler.Restore(st.Sampler, units, _o.BatchSize);
            window = ObjectiveMetrics.ImportEntries(st.Window.Metrics);
            (windowLoss, windowCount, windowTokens) = (st.Window.LossSum, st.Window.Steps, st.Window.Tokens);
            _run.TruncateMetricsAfter(step);
            _log.WriteLine($"resumed from {cpDir} at step {cpStep} of {totalSteps}");
        }

        using var policyTape = new Tape();
        using var valueTape = new Tape();
        using var metricsFile = new StreamWriter(_run.MetricsFile, append: true);
        // A redrawn bar only when the log is this terminal's stderr; plain lines otherwise (files, CI, library callers).
        var progress = new ProgressReporter(_log, ReferenceEquals(_log, Console.Error) && !Console.IsErrorRedirected, step, totalSteps);
        var windowClock = Stopwatch.StartNew();
        string? lastCheckpoint = _run.Checkpoints().LastOrDefault().Directory;
        IReadOnlyDictionary<string, double> lastMetrics = new Dictionary<string, double>();
        bool interrupted = false;

        while (step < totalSteps)
        {
            if (cancel.IsCancellationRequested) { interrupted = true; break; }
            double stepLoss = 0;
            var stepMetrics = new ObjectiveMetrics();
            long stepTokens = 0;
            for (int micro = 0; micro < _o.GradientAccumulation; micro++)
            {
                var batch = sampler.Next();
                var (loss, metrics, tokens) = TrainMicroBatch(batch.Indices, policyTape, valueTape, 1.0 / _o.GradientAccumulation);
                stepLoss += loss / _o.GradientAccumulation;
                stepMetrics.Merge(metrics);
                stepTokens += tokens;
            }
            double policyNorm = _o.MaxGradNorm > 0 ? GradientClipping.ClipGlobalNorm(_policy.Parameters.All, _o.MaxGradNorm) : GradientClipping.GlobalNorm(_policy.Parameters.All);
            double valueNorm = _valueParams is null ? 0 : _o.MaxGradNorm > 0 ? GradientClipping.ClipGlobalNorm(_valueParams.All, _o.MaxGradNorm) : GradientClipping.GlobalNorm(_valueParams.All);
            if (!double.IsFinite(stepLoss) || !double.IsFinite(policyNorm) || !double.IsFinite(valueNorm))
            {
                progress.Break();
                throw new TrainingException($"the loss became {(double.IsFinite(stepLoss) ? "finite but a gradient norm is " + (double.IsFinite(policyNorm) ? valueNorm : policyNorm) : stepLoss.ToString())} at step {step + 1}; " +
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
            window.Merge(stepMetrics);
            windowLoss += stepLoss; windowCount++; windowTokens += stepTokens;
            bool logStep = step % _o.LogEvery == 0 || step == totalSteps;
            double tps = windowTokens / Math.Max(1e-9, windowClock.Elapsed.TotalSeconds);
            progress.Update(step, windowLoss / windowCount, tps, logStep);
            if (logStep)
            {
                var line = new SortedDictionary<string, double>(window.ToDictionary(), StringComparer.Ordinal)
                {
                    ["loss"] = windowLoss / windowCount,
                    ["learning_rate"] = lr,
                    ["grad_norm"] = policyNorm,
                    ["epoch"] = sampler.Epoch + (double)sampler.Position / units,
                    ["tokens_per_s"] = tps,
                };
                if (_valueParams is not null) { line["value/grad_norm"] = valueNorm; line["value/learning_rate"] = valueSchedule.LearningRate(step - 1); }
                WriteMetrics(metricsFile, step, line);
                lastMetrics = line;
                window = new ObjectiveMetrics();
                windowLoss = 0; windowCount = 0; windowTokens = 0;
                windowClock.Restart();
            }
            if (_evalRows.Length > 0 && _o.EvalEvery > 0 && step % _o.EvalEvery == 0 && step != totalSteps)
                WriteMetrics(metricsFile, step, Evaluate(policyTape, valueTape));
            if (_o.SaveEvery > 0 && step % _o.SaveEvery == 0 && step != totalSteps)
                lastCheckpoint = SaveCheckpoint(step, sampler, tokensSeen, elapsedBefore + clock.Elapsed.TotalSeconds,
                    new TrainingCheckpoint.LogWindow(window.ExportEntries(), windowLoss, windowCount, windowTokens));
        }

        if (interrupted)
        {
            progress.Break();
            lastCheckpoint = SaveCheckpoint(step, sampler, tokensSeen, elapsedBefore + clock.Elapsed.TotalSeconds,
                    new TrainingCheckpoint.LogWindow(window.ExportEntries(), windowLoss, windowCount, windowTokens));
            _log.WriteLine($"interrupted at step {step}: saved {lastCheckpoint}; continue with: dro train --resume {_o.Out}");
            return new TrainingResult(step, totalSteps, true, null, lastCheckpoint, lastMetrics, elapsedBefore + clock.Elapsed.TotalSeconds);
        }

        if (_evalRows.Length > 0)
        {
            var eval = Evaluate(policyTape, valueTape);
            WriteMetrics(metricsFile, step, eval);
            var merged = new Dictionary<string, double>(lastMetrics);
            foreach (var (k, v) in eval) merged[k] = v;
            lastMetrics = merged;
        }
        lastCheckpoint = SaveCheckpoint(step, sampler, tokensSeen, elapsedBefore + clock.Elapsed.TotalSeconds,
                    new TrainingCheckpoint.LogWindow(window.ExportEntries(), windowLoss, windowCount, windowTokens));
        SaveFinal();
        return new TrainingResult(step, totalSteps, false, _run.FinalDirectory, lastCheckpoint, lastMetrics, elapsedBefore + clock.Elapsed.TotalSeconds);
    }

    // ---------------------------------------------------------------- models and data

    private void LoadModels()
    {
        _policy = T5ModelFiles.LoadPolicy(_o.Model);
        if (_needs.NeedsMismatchedLogProbs) _reference = T5ModelFiles.LoadPolicy(_o.Ref ?? _o.Model);
        if (!_needs.NeedsValueNetwork) return;
        var rng = new DeterministicRandom(_o.Seed ^ 0x5EED_0F_7A1EUL);
        switch (_o.ValueMode)
        {
            case DroValueMode.PerExample:
                _valueModel = T5ValueModel.FromPolicy(_policy, rng);
                _valueParams = _valueModel.Parameters;
                break;
            case DroValueMode.Single:
                _valueParams = new ParameterSet();
                _valueScalar = _valueParams.Create("value", new Shape(1));
                break;
            case DroValueMode.Shared:
                _valueParams = new ParameterSet();
                _sharedHeadWeight = _valueParams.Create("value_head.weight", new Shape(1, _policy.Config.DModel));
                _sharedHeadBias = _valueParams.Create("value_head.bias", new Shape(1));
                double std = T5Initialization.StdFor("value_head.weight", _policy.Config);
                for (int i = 0; i < _sharedHeadWeight.Length; i++) _sharedHeadWeight[i] = (float)(rng.NextGaussian() * std);
                break;
        }
    }

    private void LoadData()
    {
        var requirement = _needs.NeedsPairs ? DataRequirement.Pairs : _o.Algo.StartsWith("sft", StringComparison.Ordinal) ? DataRequirement.Completions : DataRequirement.Feedback;
        try
        {
            _data = TrainingDataLoader.Load(new TrainingDataOptions
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
                Requirement = requirement,
            }, _encoder);
        }
        catch (DataFormatException e)
        {
            throw new TrainingException(e.Message, e);
        }
        foreach (var w in _data.Warnings) _log.WriteLine($"warning: {w}");
        RunDirectory.WriteTextAtomic(_run.DataReportFile, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["train"] = _data.Train.Summary,
            ["eval"] = _data.Eval?.Summary,
            ["skipped_rows"] = _data.SkippedRows,
            ["warnings"] = _data.Warnings,
        }, new JsonSerializerOptions { WriteIndented = true }));
        _log.WriteLine(_data.Train.Summary.ToString());
        if (_data.Eval is not null) _log.WriteLine(_data.Eval.Summary.ToString());
        if (_data.SkippedRows.Count > 0) _log.WriteLine($"skipped {_data.SkippedRows.Count} bad rows (listed in {_run.DataReportFile})");

        (_trainRows, _trainPairs) = Rows(_data.Train);
        if (_data.Eval is not null) (_evalRows, _evalPairs) = Rows(_data.Eval);
        if (_o.Algo == "sft-pos")
        {
            _trainRows = Positives(_trainRows, "training");
            if (_evalRows.Length > 0) _evalRows = Positives(_evalRows, "evaluation");
        }
        if (_o.Algo == "kto" && _o.KtoLabel == "labels")
        {
            if (_trainRows.Any(r => r.Label is null))
                throw new TrainingException($"{_o.Data}: KTO with --kto-label labels needs a 'label' column; for scored data use --kto-label batch-mean (the DRO paper's KTO)");
            int up = _trainRows.Count(r => r.Label == true), down = _trainRows.Length - up;
            if (KtoObjective.ClassBalanceWarning(up, down, _o.DesirableWeight, _o.UndesirableWeight) is { } warning) _log.WriteLine($"warning: {warning}");
        }
    }

    private TrainingRow[] Positives(TrainingRow[] rows, string what)
    {
        var keep = rows.All(r => r.Label is not null)
            ? SftObjective.PositiveIndices(rows.Select(r => r.Label!.Value).ToArray())
            : SftObjective.PositiveIndices(rows.Select(r => r.Reward).ToArray(), 0.0);
        if (keep.Length == 0) throw new TrainingException($"sft-pos: the {what} data has no positive rows (thumbs up, or reward above the mean)");
        return keep.Select(i => rows[i]).ToArray();
    }

    private static (TrainingRow[], (int, int)[]) Rows(PreparedSplit split)
    {
        if (split.Kind == DatasetKind.PreferencePairs)
        {
            var rows = new List<TrainingRow>();
            var pairs = new (int, int)[split.Pairs.Count];
            for (int p = 0; p < split.Pairs.Count; p++)
            {
                var pr = split.Pairs[p];
                pairs[p] = (rows.Count, rows.Count + 1);
                rows.Add(new TrainingRow(pr.PromptIds, pr.ChosenIds, 1, true, p));
                rows.Add(new TrainingRow(pr.PromptIds, pr.RejectedIds, 0, false, p));
            }
            return (rows.ToArray(), pairs);
        }
        var examples = split.Examples;
        var result = new TrainingRow[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            double reward = e.Reward ?? e.RawReward ?? (e.Label == true ? 1.0 : 0.0);
            result[i] = new TrainingRow(e.PromptIds, e.CompletionIds, reward, e.Label, split.PromptGroups.GroupOf(i));
        }
        return (result, Array.Empty<(int, int)>());
    }

    /// <summary>Sampling units: pairs for DPO, rows otherwise.</summary>
    private int UnitCount(bool train) => _needs.NeedsPairs ? (train ? _trainPairs.Length : _evalPairs.Length) : (train ? _trainRows.Length : _evalRows.Length);

    // ---------------------------------------------------------------- reference log-probs

    private void ComputeReferenceLogProbs()
    {
        if (!_needs.NeedsReference) return;
        string refDir = _o.Ref ?? _o.Model;
        string trainPrint = Fingerprint(_trainRows), evalPrint = Fingerprint(_evalRows);
        string refHash;
        using (var refModel = _reference is null ? T5ModelFiles.LoadPolicy(refDir) : null)
        {
            var model = _reference ?? refModel!;
            refHash = WeightsHash(model.Parameters);
            if (TryLoadReferenceCache(refHash, trainPrint, evalPrint)) { _log.WriteLine($"reference log-probs: reusing {_run.ReferenceCacheFile}"); }
            else
            {
                var sw = Stopwatch.StartNew();
                _trainRef = ScoreRows(model, _trainRows);
                _evalRef = ScoreRows(model, _evalRows);
                var writer = new SafetensorsWriter();
                using var t1 = Tensor.FromArray(_trainRef.Select(x => (float)x).ToArray(), new Shape(_trainRef.Length));
                using var t2 = Tensor.FromArray(_evalRef.Select(x => (float)x).ToArray(), new Shape(_evalRef.Length));
                writer.Add("train", t1).Add("eval", t2)
                      .AddMetadata("reference_hash", refHash).AddMetadata("train_fingerprint", trainPrint).AddMetadata("eval_fingerprint", evalPrint)
                      .AddMetadata("reference", Path.GetFullPath(refDir)).AddMetadata("length_normalize", _o.LengthNormalize ? "true" : "false");
                writer.Write(_run.ReferenceCacheFile);
                // Use exactly what was stored, so a resumed run (which reads the file) sees the same numbers.
                _trainRef = t1.ToArray().Select(x => (double)x).ToArray();
                _evalRef = t2.ToArray().Select(x => (double)x).ToArray();
                _log.WriteLine($"reference log-probs: {_trainRows.Length + _evalRows.Length} sequences in {sw.Elapsed.TotalSeconds:F1} s, cached in {_run.ReferenceCacheFile}");
            }
        }
        if (_needs.NeedsSeveralResponsesPerPrompt)
        {
            _trainPartition = Partition(_trainRows, _trainRef, "training");
            if (_evalRows.Length > 0) _evalPartition = Partition(_evalRows, _evalRef, "evaluation");
        }
    }

    private double[] Partition(TrainingRow[] rows, double[] refLogp, string what)
    {
        try
        {
            var pv = RpoObjective.EstimatePartitionValues(rows.Select(r => r.PromptGroup).ToArray(), refLogp, rows.Select(r => r.Reward).ToArray(), _o.Tau);
            if (pv.SingletonPromptCount > 0)
                _log.WriteLine($"rpo: {pv.SingletonPromptCount} of {pv.PromptCount} {what} prompts have a single response (their target is log π = log π_ref + (r − V̂)/τ with V̂ from that response alone)");
            return pv.Values;
        }
        catch (ArgumentException e)
        {
            throw new TrainingException($"rpo needs several responses per prompt, and the {what} data has none with more than one: {e.Message}", e);
        }
    }

    private bool TryLoadReferenceCache(string refHash, string trainPrint, string evalPrint)
    {
        if (!File.Exists(_run.ReferenceCacheFile)) return false;
        try
        {
            using var r = SafetensorsReader.Open(_run.ReferenceCacheFile);
            var m = r.Metadata;
            if (m is null || m.GetValueOrDefault("reference_hash") != refHash || m.GetValueOrDefault("train_fingerprint") != trainPrint
                || m.GetValueOrDefault("eval_fingerprint") != evalPrint || m.GetValueOrDefault("length_normalize") != (_o.LengthNormalize ? "true" : "false"))
                return false;
            using var t1 = r.ReadTensor("train");
            using var t2 = r.ReadTensor("eval");
            _trainRef = t1.ToArray().Select(x => (double)x).ToArray();
            _evalRef = t2.ToArray().Select(x => (double)x).ToArray();
            return true;
        }
        catch (CheckpointFormatException)
        {
            return false;
        }
    }

    private double[] ScoreRows(T5ForConditionalGeneration model, TrainingRow[] rows) =>
        model.ScoreSequences(rows.Select(r => r.Prompt).ToArray(), rows.Select(r => r.Completion).ToArray(), Math.Max(_o.BatchSize, 16), _o.LengthNormalize);

    private static string Fingerprint(TrainingRow[] rows)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var b4 = new byte[4];
        void Add(int[] ids)
        {
            BitConverter.TryWriteBytes(b4, ids.Length); h.AppendData(b4);
            h.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
        }
        foreach (var r in rows) { Add(r.Prompt); Add(r.Completion); }
        return Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant();
    }

    private static unsafe string WeightsHash(ParameterSet ps)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in ps.All)
        {
            h.AppendData(System.Text.Encoding.UTF8.GetBytes(p.Name!));
            h.AppendData(new ReadOnlySpan<byte>(p.Data, p.Length * sizeof(float)));
        }
        return Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant();
    }

    private void BuildOptimizers()
    {
        _policyOpt = MakeOptimizer(_policy.Parameters);
        if (_valueParams is not null) _valueOpt = MakeOptimizer(_valueParams);
    }

    private Optimizer MakeOptimizer(ParameterSet ps) => _o.Optimizer == "adafactor"
        // As the HF Trainer's optim="adafactor": external LR, no parameter scaling; decay rate −0.8 (the DRO paper's "0.8").
        ? new Adafactor(ps.All, weightDecay: _o.WeightDecay, scaleParameter: false)
        : new AdamW(ps.All, weightDecay: _o.WeightDecay);

    // ---------------------------------------------------------------- one micro-batch

    /// <summary>
    /// Rows of one micro-batch (for DPO: the chosen rows, then the rejected rows of the sampled pairs),
    /// with their reference log-probs and pair structure.
    /// </summary>
    private (int[] Rows, PreferencePair[]? Pairs) Expand(int[] units, bool train)
    {
        if (!_needs.NeedsPairs) return (units, null);
        var pairs = train ? _trainPairs : _evalPairs;
        var rows = new int[units.Length * 2];
        var pp = new PreferencePair[units.Length];
        for (int i = 0; i < units.Length; i++)
        {
            rows[i] = pairs[units[i]].Chosen;
            rows[units.Length + i] = pairs[units[i]].Rejected;
            pp[i] = new PreferencePair(i, units.Length + i);
        }
        return (rows, pp);
    }

    private (double Loss, ObjectiveMetrics Metrics, long Tokens) TrainMicroBatch(int[] units, Tape policyTape, Tape valueTape, double scale)
    {
        var (rowIdx, pairs) = Expand(units, train: true);
        var rows = rowIdx.Select(i => _trainRows[i]).ToArray();
        using var batch = Seq2SeqBatch.Create(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList(), _policy.PadId, _policy.DecoderStartId);
        var (logp, v) = Forward(batch, policyTape, valueTape);

        var ob = BuildObjectiveBatch(rows, rowIdx, pairs, logp, v, _trainRef, _trainPartition, batch);
        long tokens = batch.PromptLengths.Sum() + batch.ResponseLengths.Sum();
        if (!AllFinite(ob.PolicyLogProbs) || (ob.Values is { } vs && !AllFinite(vs)))
        {
            // The networks diverged: report it as a non-finite loss; the step loop stops before any update.
            policyTape.Reset();
            valueTape.Reset();
            return (double.NaN, new ObjectiveMetrics(), tokens);
        }
        var result = _objective.Compute(ob);

        using var dLogp = Tensor.Uninitialized(new Shape(batch.Size));
        for (int i = 0; i < batch.Size; i++) dLogp[i] = (float)(result.PolicyLogProbGradient[i] * scale);
        if (result.ValueGradient is { } dv)
        {
            if (_valueScalar is not null)
            {
                _valueScalar.EnsureGrad()[0] += (float)(result.ValueGradientSum * scale);
            }
            else if (_sharedHeadWeight is not null)
            {
                var g = policyTape.GradOf(v)!;
                for (int i = 0; i < batch.Size; i++) g[i] += (float)(dv[i] * scale);
            }
            else
            {
                using var dV = Tensor.Uninitialized(new Shape(batch.Size));
                for (int i = 0; i < batch.Size; i++) dV[i] = (float)(dv[i] * scale);
                valueTape.Backward(v!, dV);
            }
        }
        policyTape.Backward(logp, dLogp);
        policyTape.Reset();
        valueTape.Reset();
        return (result.Loss, result.Metrics, tokens);
    }

    /// <summary>
    /// log πθ(y|x) [B] on the policy tape (summed over completion tokens, or divided by the length with
    /// --length-normalize), and V(x) [B]: from the value network on its own tape, from a head on the
    /// policy's encoder (shared), or null (no value network; --value single reads its scalar elsewhere).
    /// </summary>
    private (Tensor LogProbs, Tensor? Values) Forward(Seq2SeqBatch batch, Tape policyTape, Tape valueTape)
    {
        Tensor logp;
        Tensor? v = null;
        using (policyTape.Activate())
        {
            var enc = _policy.Encode(batch.PromptIds, batch.PromptMask);
            var dec = _policy.DecodeHidden(batch.DecoderInputIds, batch.Size, enc, batch.PromptMask);
            var tok = Ops.Reshape(Ops.LogSoftmaxGather(_policy.Logits(dec), batch.Targets), new Shape(batch.Size, batch.ResponseLength));
            logp = Ops.SumLastAxis(tok);
            if (_o.LengthNormalize) logp = Ops.Mul(logp, InverseLengths(batch));
            if (_sharedHeadWeight is not null)
                v = Ops.Reshape(Ops.AddBias(Ops.Linear(Ops.MaskedMeanPool(enc, batch.PromptMask), _sharedHeadWeight), _sharedHeadBias!), new Shape(batch.Size));
        }
        if (_valueModel is not null)
            using (valueTape.Activate()) v = _valueModel.Forward(batch.PromptIds, batch.PromptMask);
        return (logp, v);
    }

    private static bool AllFinite(double[] xs)
    {
        foreach (double x in xs) if (!double.IsFinite(x)) return false;
        return true;
    }

    private static Tensor InverseLengths(Seq2SeqBatch batch)
    {
        var inv = Tape.NewTensor(new Shape(batch.Size));
        for (int i = 0; i < batch.Size; i++) inv[i] = 1f / Math.Max(1, batch.ResponseLengths[i]);
        return inv;
    }

    private ObjectiveBatch BuildObjectiveBatch(TrainingRow[] rows, int[] rowIdx, PreferencePair[]? pairs, Tensor logp, Tensor? values,
        double[] refLogp, double[]? partition, Seq2SeqBatch batch)
    {
        int b = rows.Length;
        var lp = new double[b];
        for (int i = 0; i < b; i++) lp[i] = logp[i];
        double[]? vals = null;
        if (_valueScalar is not null) { vals = new double[b]; Array.Fill(vals, (double)_valueScalar[0]); }
        else if (values is not null) { vals = new double[b]; for (int i = 0; i < b; i++) vals[i] = values[i]; }
        double[]? misPolicy = null, misRef = null;
        if (_needs.NeedsMismatchedLogProbs)
        {
            // TRL's KL pairs: prompt i with the completion of row MismatchedCompletionIndex(i) of the micro-batch; no gradient.
            var prompts = new List<int[]>(b);
            var completions = new List<int[]>(b);
            for (int i = 0; i < b; i++)
            {
                prompts.Add(rows[i].Prompt);
                completions.Add(rows[KtoObjective.MismatchedCompletionIndex(i, b)].Completion);
            }
            misPolicy = _policy.ScoreSequences(prompts, completions, b, _o.LengthNormalize);
            misRef = _reference!.ScoreSequences(prompts, completions, b, _o.LengthNormalize);
        }
        bool allLabels = rows.All(r => r.Label is not null);
        return new ObjectiveBatch
        {
            PolicyLogProbs = lp,
            ReferenceLogProbs = rowIdx.Select(i => refLogp.Length > 0 ? refLogp[i] : 0.0).ToArray(),
            Values = vals,
            Rewards = rows.Select(r => r.Reward).ToArray(),
            Labels = allLabels ? rows.Select(r => r.Label!.Value).ToArray() : null,
            MismatchedPolicyLogProbs = misPolicy,
            MismatchedReferenceLogProbs = misRef,
            PartitionValues = partition is null ? null : rowIdx.Select(i => partition[i]).ToArray(),
            TokenCounts = batch.ResponseLengths.ToArray(),
            Pairs = pairs,
        };
    }

    // ---------------------------------------------------------------- evaluation, logging, saving

    /// <summary>The objective and its metrics on the held-out split, no gradients, as <c>eval_*</c>.</summary>
    private SortedDictionary<string, double> Evaluate(Tape policyTape, Tape valueTape)
    {
        var metrics = new ObjectiveMetrics();
        double loss = 0; int batches = 0;
        int units = UnitCount(train: false);
        var chunks = new List<int[]>();
        for (int s = 0; s < units; s += _o.BatchSize) chunks.Add(Enumerable.Range(s, Math.Min(_o.BatchSize, units - s)).ToArray());
        if (chunks.Count > 1 && chunks[^1].Length < _needs.MinimumBatchSize) { chunks[^2] = chunks[^2].Concat(chunks[^1]).ToArray(); chunks.RemoveAt(chunks.Count - 1); }
        foreach (var unitsChunk in chunks)
        {
            if (unitsChunk.Length < _needs.MinimumBatchSize) continue;
            var (rowIdx, pairs) = Expand(unitsChunk, train: false);
            var rows = rowIdx.Select(i => _evalRows[i]).ToArray();
            using var batch = Seq2SeqBatch.Create(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList(), _policy.PadId, _policy.DecoderStartId);
            bool recP = policyTape.Recording, recV = valueTape.Recording;
            policyTape.Recording = false; valueTape.Recording = false;
            try
            {
                var (logp, v) = Forward(batch, policyTape, valueTape);
                var ob = BuildObjectiveBatch(rows, rowIdx, pairs, logp, v, _evalRef, _evalPartition, batch);
                if (!AllFinite(ob.PolicyLogProbs) || (ob.Values is { } vs && !AllFinite(vs))) { loss = double.NaN; batches++; continue; }
                var result = _objective.Compute(ob);
                metrics.Merge(result.Metrics);
                loss += result.Loss; batches++;
            }
            finally
            {
                policyTape.Recording = recP; valueTape.Recording = recV;
                policyTape.Reset(); valueTape.Reset();
            }
        }
        var d = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, val) in metrics.ToDictionary()) d["eval_" + k] = val;
        d["eval_loss"] = batches > 0 ? loss / batches : double.NaN;
        return d;
    }

    private static void WriteMetrics(StreamWriter w, long step, IDictionary<string, double> values)
    {
        var obj = new SortedDictionary<string, object>(StringComparer.Ordinal) { ["step"] = step };
        foreach (var (k, v) in values) obj[k] = double.IsFinite(v) ? v : v.ToString();
        w.WriteLine(JsonSerializer.Serialize(obj));
        w.Flush();
    }

    private string SaveCheckpoint(long step, EpochSampler sampler, long tokens, double elapsed, TrainingCheckpoint.LogWindow window)
    {
        string dir = _run.CheckpointDirectory(step);
        TrainingCheckpoint.Save(dir, new TrainingCheckpoint.TrainerState(step, sampler.GetState(), tokens, elapsed, window),
            _policy.Config, _policy.Parameters, _valueParams, _policyOpt, _valueOpt);
        if (_o.SaveTotalLimit > 0)
        {
            var all = _run.Checkpoints();
            for (int i = 0; i < all.Count - _o.SaveTotalLimit; i++) Directory.Delete(all[i].Directory, recursive: true);
        }
        return dir;
    }

    /// <summary>RUN/final: the policy as an HF model directory (with the tokenizer), the value model in final/value.</summary>
    private void SaveFinal()
    {
        string final = _run.FinalDirectory;
        string tmp = final + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            T5ModelFiles.SavePolicy(_policy, tmp);
            foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model" })
            {
                string src = Path.Combine(_o.Model, name);
                if (File.Exists(src)) File.Copy(src, Path.Combine(tmp, name));
            }
            if (_valueParams is not null) T5ModelFiles.Save(_policy.Config, _valueParams, Path.Combine(tmp, "value"));
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
        _policy?.Dispose();
        _reference?.Dispose();
        if (_valueModel is not null) _valueModel.Dispose();
        else _valueParams?.Dispose();
    }
}
