using System.Text.Json;
using System.Text.Json.Serialization;
using DroSharp.Alignment.Objectives;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Every option of <c>dro train</c>, with its default. Written whole to <c>RUN/run.json</c>, so a run
/// says exactly how it was made and <c>--resume</c> continues with the same settings.
/// Defaults follow the DRO paper where it gives one (τ 1, LR 1e-4 for both networks, 150 warmup
/// steps, rewards z-normalised) and TRL / the HF Trainer where it does not (linear schedule, grad
/// clipping at 1.0, weight decay 0, dropout off).
/// </summary>
public sealed record TrainingOptions
{
    [JsonPropertyName("algo")] public string Algo { get; init; } = "dro-v";
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    /// <summary>Reference policy directory; the initial policy (<see cref="Model"/>) when null.</summary>
    [JsonPropertyName("ref")] public string? Ref { get; init; }
    [JsonPropertyName("data")] public string Data { get; init; } = "";
    [JsonPropertyName("eval_data")] public string? EvalData { get; init; }
    [JsonPropertyName("eval_fraction")] public double? EvalFraction { get; init; }
    [JsonPropertyName("out")] public string Out { get; init; } = "";
    [JsonPropertyName("tau")] public double Tau { get; init; } = 1.0;
    [JsonPropertyName("beta")] public double Beta { get; init; } = 0.1;
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = 1e-4;
    /// <summary>Value network LR; <see cref="LearningRate"/> when null (the paper uses 1e-4 for both).</summary>
    [JsonPropertyName("value_lr")] public double? ValueLearningRate { get; init; }
    [JsonPropertyName("optimizer")] public string Optimizer { get; init; } = "adamw";
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 8;
    [JsonPropertyName("grad_accum")] public int GradientAccumulation { get; init; } = 1;
    /// <summary>Optimiser steps; when null, <see cref="Epochs"/> passes over the data decide.</summary>
    [JsonPropertyName("max_steps")] public int? MaxSteps { get; init; }
    [JsonPropertyName("epochs")] public double Epochs { get; init; } = 1;
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; } = 150;
    [JsonPropertyName("schedule")] public string Schedule { get; init; } = "linear";
    /// <summary>Global-norm clipping per network; 0 turns it off.</summary>
    [JsonPropertyName("max_grad_norm")] public double MaxGradNorm { get; init; } = 1.0;
    [JsonPropertyName("max_prompt_length")] public int? MaxPromptLength { get; init; } = 512;
    [JsonPropertyName("max_completion_length")] public int? MaxCompletionLength { get; init; } = 512;
    [JsonPropertyName("normalize_rewards")] public bool NormalizeRewards { get; init; } = true;
    [JsonPropertyName("seed")] public ulong Seed { get; init; } = 42;
    [JsonPropertyName("log_every")] public int LogEvery { get; init; } = 10;
    /// <summary>Evaluate on the held-out split every N steps (0: only at the end, when there is a split).</summary>
    [JsonPropertyName("eval_every")] public int EvalEvery { get; init; }
    /// <summary>Checkpoint every N steps (0: only the final model).</summary>
    [JsonPropertyName("save_every")] public int SaveEvery { get; init; } = 500;
    /// <summary>Checkpoints kept on disk (oldest removed first); 0 keeps all.</summary>
    [JsonPropertyName("save_total_limit")] public int SaveTotalLimit { get; init; } = 3;
    [JsonPropertyName("skip_bad_rows")] public bool SkipBadRows { get; init; }
    /// <summary>DRO-V value parameterisation: <c>per-example</c> (default), <c>single</c>, <c>shared</c>.</summary>
    [JsonPropertyName("value")] public string Value { get; init; } = "per-example";
    /// <summary>Divide sequence log-probs by the completion length (changes DRO's fixed point; off by default).</summary>
    [JsonPropertyName("length_normalize")] public bool LengthNormalize { get; init; }
    [JsonPropertyName("desirable_weight")] public double DesirableWeight { get; init; } = 1.0;
    [JsonPropertyName("undesirable_weight")] public double UndesirableWeight { get; init; } = 1.0;
    /// <summary>KTO labels: <c>labels</c> (the data's), or <c>batch-mean</c> (reward above the micro-batch mean, the DRO paper's KTO).</summary>
    [JsonPropertyName("kto_label")] public string KtoLabel { get; init; } = "labels";
    [JsonPropertyName("up_reward")] public double UpReward { get; init; } = 1.0;
    [JsonPropertyName("down_reward")] public double DownReward { get; init; }

    /// <summary>
    /// Score every row with the reference before the first step (the old behaviour) instead of lazily,
    /// per micro-batch, the first time a row is seen.
    /// </summary>
    [JsonPropertyName("precompute_ref")] public bool PrecomputeReference { get; init; }

    [JsonIgnore] public double EffectiveValueLearningRate => ValueLearningRate ?? LearningRate;

    [JsonIgnore] public DroValueMode ValueMode => Value switch
    {
        "per-example" => DroValueMode.PerExample,
        "single" => DroValueMode.Single,
        "shared" => DroValueMode.Shared,
        _ => throw new TrainingException($"--value must be per-example, single or shared, not '{Value}'"),
    };

    public ObjectiveOptions ObjectiveOptions() => new()
    {
        Tau = Tau,
        Beta = Beta,
        DesirableWeight = DesirableWeight,
        UndesirableWeight = UndesirableWeight,
        KtoLabels = KtoLabel switch
        {
            "labels" => KtoLabelMode.Labels,
            "batch-mean" => KtoLabelMode.BatchMeanReward,
            _ => throw new TrainingException($"--kto-label must be labels or batch-mean, not '{KtoLabel}'"),
        },
        ValueMode = ValueMode,
    };

    /// <summary>Throws <see cref="TrainingException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (!ObjectiveFactory.Names.Contains(Algo)) throw new TrainingException($"--algo must be one of {string.Join(", ", ObjectiveFactory.Names)}, not '{Algo}'");
        if (string.IsNullOrWhiteSpace(Model)) throw new TrainingException("--model is required");
        if (string.IsNullOrWhiteSpace(Data)) throw new TrainingException("--data is required");
        if (string.IsNullOrWhiteSpace(Out)) throw new TrainingException("--out is required");
        Positive(Tau, "--tau"); Positive(Beta, "--beta"); Positive(LearningRate, "--lr");
        if (ValueLearningRate is { } vlr) Positive(vlr, "--value-lr");
        if (Optimizer is not ("adamw" or "adafactor")) throw new TrainingException($"--optimizer must be adamw or adafactor, not '{Optimizer}'");
        if (!(WeightDecay >= 0)) throw new TrainingException($"--weight-decay must be ≥ 0, not {WeightDecay}");
        if (BatchSize < 1) throw new TrainingException($"--batch-size must be at least 1, not {BatchSize}");
        if (GradientAccumulation < 1) throw new TrainingException($"--grad-accum must be at least 1, not {GradientAccumulation}");
        if (MaxSteps is < 1) throw new TrainingException($"--max-steps must be at least 1, not {MaxSteps}");
        if (!(Epochs > 0)) throw new TrainingException($"--epochs must be positive, not {Epochs}");
        if (WarmupSteps < 0) throw new TrainingException($"--warmup-steps must be ≥ 0, not {WarmupSteps}");
        if (Schedule is not ("constant" or "linear" or "cosine")) throw new TrainingException($"--schedule must be constant, linear or cosine, not '{Schedule}'");
        if (!(MaxGradNorm >= 0)) throw new TrainingException($"--max-grad-norm must be ≥ 0, not {MaxGradNorm}");
        if (MaxPromptLength is < 1) throw new TrainingException($"--max-prompt-length must be at least 1, not {MaxPromptLength}");
        if (MaxCompletionLength is < 1) throw new TrainingException($"--max-completion-length must be at least 1, not {MaxCompletionLength}");
        if (EvalFraction is { } f && !(f > 0 && f < 1)) throw new TrainingException($"--eval-fraction must be in (0, 1), not {f}");
        if (EvalFraction is not null && EvalData is not null) throw new TrainingException("give --eval-data or --eval-fraction, not both");
        if (LogEvery < 1) throw new TrainingException($"--log-every must be at least 1, not {LogEvery}");
        if (EvalEvery < 0 || SaveEvery < 0 || SaveTotalLimit < 0) throw new TrainingException("--eval-every, --save-every and --save-total-limit must be ≥ 0");
        // A value like 1e999 in run.json or --config reads as infinity: no option may be infinite or NaN.
        foreach (var (name, v) in new (string, double?)[]
                 {
                     ("--tau", Tau), ("--beta", Beta), ("--lr", LearningRate), ("--value-lr", ValueLearningRate), ("--weight-decay", WeightDecay),
                     ("--epochs", Epochs), ("--max-grad-norm", MaxGradNorm), ("--eval-fraction", EvalFraction), ("--desirable-weight", DesirableWeight),
                     ("--undesirable-weight", UndesirableWeight), ("--up-reward", UpReward), ("--down-reward", DownReward),
                 })
            if (v is double d && !double.IsFinite(d)) throw new TrainingException($"{name} must be a finite number, not {d}");
        _ = ValueMode;
        _ = ObjectiveOptions();
        if (Value != "per-example" && Algo != "dro-v") throw new TrainingException($"--value {Value} applies to dro-v only");
    }

    private static void Positive(double x, string name)
    {
        if (!(x > 0) || double.IsInfinity(x)) throw new TrainingException($"{name} must be a positive number, not {x}");
    }

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public static TrainingOptions FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingOptions>(json, new JsonSerializerOptions { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow })
                   ?? throw new TrainingException($"{source}: empty options");
        }
        catch (JsonException e)
        {
            throw new TrainingException($"{source}: {e.Message}");
        }
    }
}
