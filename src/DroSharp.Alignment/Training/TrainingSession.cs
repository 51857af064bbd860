using System.Text.Json;
using System.Text.Json.Serialization;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Objectives;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Models.Lora;
using DroSharp.Models.Values;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Training;

/// <summary>
/// What a run trains on, set up in order by <see cref="AlignmentTrainer.Train"/>: the run directory
/// (locked, its options and inputs recorded or verified), the policy (and, when the objective declares
/// one, the value model; with <c>--lora</c> the adapters on one shared frozen base), the training and
/// held-out sets as the objective needs them, and the reference log-probs.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private static readonly JsonSerializerOptions SnakeCase = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly Func<IPolicyModel, ITextEncoder?> _encoderFor;
    private RunLock? _lock;

    public TrainingSession(TrainingOptions options, IAlignmentObjective objective, DataParallelGroup group, RunDirectory run,
                           Func<IPolicyModel, ITextEncoder?> encoderFor, TextWriter log)
    {
        Options = options;
        Needs = objective.Requirements;
        Objective = objective;
        Group = group;
        Run = run;
        Log = log;
        _encoderFor = encoderFor;
    }

    public TrainingOptions Options { get; }
    public IAlignmentObjective Objective { get; }
    public ObjectiveRequirements Needs { get; }
    public DataParallelGroup Group { get; }
    public RunDirectory Run { get; }
    public TextWriter Log { get; }
    public bool WritesFiles => Group.WritesFiles;

    public LoraModelSet? Lora { get; private set; }
    public IPolicyModel Policy { get; private set; } = null!;
    public IValueModel? Value { get; private set; }
    public ReferenceLogProbs? Reference { get; private set; }
    public TrainingSet Train { get; private set; } = null!;
    public TrainingSet Eval { get; private set; } = null!;

    /// <summary>The parameters every step updates: the policy's, then the value model's.</summary>
    public Tensor[] Trainable => [.. Policy.Parameters.Trainable, .. Value?.Parameters.Trainable ?? []];

    /// <summary>The fingerprint of the reference model's files (or of the LoRA base), or null when the objective needs no reference.</summary>
    public string? ReferenceHash() =>
        !Needs.NeedsReference ? null : Lora?.ReferenceKey() ?? ModelDirectoryHash.Compute(Options.Ref ?? Options.Model);

    public void StartRunDirectory(bool resume, bool allowChangedInputs)
    {
        var o = Options;
        var inputs = RunInputs.Compute(o); // missing or unreadable inputs fail here, before the run directory is touched
        if (WritesFiles)
        {
            if (File.Exists(Run.Path)) throw new TrainingException($"--out {Run.Path} is a file; a run is written to a directory");
            Directory.CreateDirectory(Run.Path);
            _lock = RunLock.Acquire(Run.Path); // one writer per run directory, released by the OS if this process dies
            foreach (var path in Run.RemoveStaleTemporaries()) Log.WriteLine($"removed {path}, left by an interrupted run");
        }
        if (resume)
        {
            if (Run.Checkpoints().Count == 0) throw new TrainingException(TrainingResume.NoCheckpoint(Run));
            RunInputs.Verify(Run, inputs, allowChangedInputs, WritesFiles, Log);
            return;
        }
        if (!WritesFiles) return;
        if (Run.Checkpoints().Count > 0 || Directory.Exists(Run.FinalDirectory))
            throw new TrainingException($"{Run.Path} already holds a run; use --resume {o.Out} to continue it, or another --out");
        RunDirectory.WriteTextAtomic(Run.OptionsFile, o.ToJson());
        RunInputs.Record(Run, inputs);
        if (File.Exists(Run.MetricsFile)) File.Delete(Run.MetricsFile);
    }

    public void LoadModels()
    {
        Lora = LoadLora(); // null without --lora
        Policy = Lora?.Policy ?? ModelFamilies.LoadPolicy(Options.Model);
        if (!Needs.NeedsValueNetwork) return;
        var kind = Needs.ValueMode switch
        {
            DroValueMode.PerExample => ValueModelKind.OwnBackbone,
            DroValueMode.Single => ValueModelKind.Scalar,
            DroValueMode.Shared => ValueModelKind.SharedBackbone,
            _ => throw new ArgumentOutOfRangeException(nameof(Needs.ValueMode)),
        };
        var rng = new DeterministicRandom(Options.Seed ^ 0x5EED_0F_7A1EUL);
        Value = Lora?.CreateValueModel(kind, rng) ?? Policy.Family.CreateValueModel(Policy, kind, rng);
    }

    // LoRA: one frozen base for the policy (base + "policy" adapter), the reference (adapters off) and the
    // value network (base + "value" adapter + head); only adapters and heads train and are checkpointed.
    /// <summary>The LoRA models of <c>--lora R</c>, or null for full fine-tuning (refusing an adapter directory as --model then).</summary>
    private LoraModelSet? LoadLora()
    {
        var o = Options;
        if (PeftAdapterFiles.IsAdapterDirectory(o.Model))
            throw new TrainingException($"--model {o.Model} is a LoRA adapter directory; train from its base model (with --lora to train a new adapter), " +
                                        "or merge it into its base first (dro merge)");
        if (o.LoraOptions() is not { } options) return null;
        LoraModelSet set;
        try
        {
            set = LoraModelSet.Load(o.Model, options, o.BaseWeightDtype, new DeterministicRandom(o.Seed ^ 0x10_AA_AD_A9_7EUL));
        }
        catch (ArgumentException e)
        {
            throw new TrainingException($"--lora-targets {o.LoraTargets}: {e.Message}", e);
        }
        long frozen = set.Base.Parameters.ElementCount + set.Base.Parameters.BFloat16Weights.Sum(m => (long)m.Length);
        Log.WriteLine($"LoRA r {options.Rank}, α {options.Alpha:G4}{(options.UseRsLora ? " (rsLoRA)" : "")}, dropout {options.Dropout:G3} on " +
                      $"{set.Policy.Adapters.Count} modules: {set.Policy.Parameters.ElementCount:N0} trainable policy parameters; " +
                      $"frozen base of {frozen:N0} parameters ({(o.BaseWeightDtype == BaseWeightDtype.BFloat16 ? "Linear weights in bfloat16" : "float32")}) " +
                      "shared by the policy, the reference and the value network");
        return set;
    }

    public void LoadData()
    {
        var o = Options;
        TrainingData data;
        try
        {
            data = TrainingDataLoader.Load(new TrainingDataOptions
            {
                DataPath = o.Data,
                EvalDataPath = o.EvalData,
                EvalFraction = o.EvalFraction,
                Seed = o.Seed,
                SkipBadRows = o.SkipBadRows,
                MaxPromptLength = o.MaxPromptLength,
                MaxCompletionLength = o.MaxCompletionLength,
                NormalizeRewards = o.NormalizeRewards,
                UpReward = o.UpReward,
                DownReward = o.DownReward,
                Requirement = Needs.Data,
                Purpose = o.Algo,
                BosId = Policy.Tokens.BosId,
                EndIds = Policy.Tokens.StopIds,
                VocabSize = Policy.Config.VocabSize,
            }, _encoderFor(Policy));
        }
        catch (DataFormatException e)
        {
            throw new TrainingException(e.Message, e);
        }
        foreach (var w in data.Warnings) Log.WriteLine($"warning: {w}");
        if (WritesFiles)
            RunDirectory.WriteTextAtomic(Run.DataReportFile, JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["train"] = data.Train.Summary,
                ["eval"] = data.Eval?.Summary,
                ["skipped_rows"] = data.SkippedRows,
                ["warnings"] = data.Warnings,
            }, SnakeCase));
        Log.WriteLine(data.Train.Summary.ToString());
        if (data.Eval is not null) Log.WriteLine(data.Eval.Summary.ToString());
        if (data.SkippedRows.Count > 0) Log.WriteLine($"skipped {data.SkippedRows.Count} bad rows (listed in {Run.DataReportFile})");

        Train = TrainingSet.From(data.Train, Needs.NeedsPairs);
        Eval = data.Eval is null ? TrainingSet.Empty(Needs.NeedsPairs) : TrainingSet.From(data.Eval, Needs.NeedsPairs);
        if (Needs.PositivesOnly)
        {
            // "Positive": thumbs up, or a reward above the training split's mean (normalised or not).
            double threshold = Train.MeanReward;
            Train = Train.Positives(threshold)
                ?? throw new TrainingException($"{o.Data}: {o.Algo} needs positive rows (thumbs up, or a reward above the training mean {threshold:G4}) and the training data has none");
            if (Eval.UnitCount > 0) Eval = Eval.Positives(threshold) ?? TrainingSet.Empty(false);
        }
        if (Needs.NeedsLabels)
        {
            if (Train.Rows.Any(r => r.Label is null)) throw new TrainingException($"{o.Data}: {Needs.MissingLabelsHint}");
            int up = Train.Rows.Count(r => r.Label == true);
            foreach (var w in Objective.LabelBalanceWarnings(up, Train.Rows.Length - up)) Log.WriteLine($"warning: {w}");
        }
        if (Eval.UnitCount > 0 && Eval.UnitCount < Needs.MinimumBatchSize)
        {
            Log.WriteLine($"warning: the evaluation split has {Eval.UnitCount} {(Eval.Paired ? "pairs" : "rows")}, fewer than {o.Algo}'s minimum micro-batch of {Needs.MinimumBatchSize}; it is not evaluated");
            Eval = TrainingSet.Empty(Needs.NeedsPairs);
        }
    }

    public void PrepareReference(string? referenceHash, CancellationToken cancel)
    {
        if (referenceHash is null) return;
        var o = Options;
        string refDir = o.Ref ?? o.Model;
        Reference = Lora is { } lora // the base with adapters off: no second model
            ? new ReferenceLogProbs(Run.ReferenceCacheFile, referenceHash, Train, Eval, () => lora.Reference, o.BatchSize, o.LengthNormalize,
                o.PrecomputeReference, keepModel: true)
            : new ReferenceLogProbs(Run.ReferenceCacheFile, referenceHash, Train, Eval,
                () => ModelFamilies.LoadPolicy(refDir), o.BatchSize, o.LengthNormalize, o.PrecomputeReference,
                keepModel: Needs.NeedsMismatchedLogProbs);
        int cached = Reference.LoadShared(Group);
        if (cached > 0) Log.WriteLine($"reference log-probs: reusing {cached} cached values from {Run.ReferenceCacheFile}");
        // RPO's partition values need every reference log-prob before the first step.
        if (o.PrecomputeReference || Needs.NeedsSeveralResponsesPerPrompt)
        {
            Reference.ComputeAll(Log, Group, cancel);
            if (WritesFiles) Reference.Save();
        }
    }

    public void ComputePartitionValues(MicroBatchRunner runner)
    {
        runner.TrainPartition = Partition(Train, train: true, "training");
        if (Eval.Rows.Length > 0) runner.EvalPartition = Partition(Eval, train: false, "evaluation");
    }

    private double[] Partition(TrainingSet set, bool train, string what)
    {
        var refLogp = Reference!.For(train, Enumerable.Range(0, set.Rows.Length).ToArray());
        try
        {
            var pv = RpoObjective.EstimatePartitionValues(set.Rows.Select(r => r.PromptGroup).ToArray(), refLogp, set.Rows.Select(r => r.Reward).ToArray(), Options.Tau);
            if (pv.SingletonPromptCount > 0)
                Log.WriteLine($"{Options.Algo}: {pv.SingletonPromptCount} of {pv.PromptCount} {what} prompts have a single response (their target is log π = log π_ref + (r − V̂)/τ with V̂ from that response alone)");
            return pv.Values;
        }
        catch (ArgumentException e)
        {
            throw new TrainingException($"{Options.Algo} needs several responses per prompt, and the {what} data has none with more than one: {e.Message}", e);
        }
    }

    /// <summary>
    /// Under several processes: stops the job unless every rank has the same options, data and
    /// weights (and, after a resume, the same checkpoint) as rank 0. Nothing to check in one process.
    /// </summary>
    public void RequireRanksAgree(string what, string? referenceHash, long? resumedStep)
    {
        if (Group.WorldSize == 1) return;
        var facts = new List<(string, string)>
        {
            ("options", (Options with { Out = Path.GetFullPath(Options.Out) }).ToJson()),
            ("training data (token ids)", Train.Fingerprint()),
            ("evaluation data (token ids)", Eval.Fingerprint()),
            ("policy weights", DataParallelGroup.ParameterDigest(Policy.Parameters.All)),
            ("value weights", Value is null ? "" : DataParallelGroup.ParameterDigest(Value.Parameters.All)),
            ("reference model files", referenceHash ?? ""),
        };
        if (resumedStep is { } step) facts.Add(("checkpoint step", step.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Group.RequireAgreement(facts, $"every process must read the same {what}; " +
                                      "give every machine the same --model, --ref, --data and run directory (a shared filesystem, or copies at the same paths)");
    }

    public void Dispose()
    {
        Policy?.Dispose();
        Value?.Dispose();
        Reference?.Dispose();
        _lock?.Dispose();
    }
}
