using System.Text.Json;
using System.Text.Json.Serialization;
using DroSharp.Alignment.Objectives;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Every option of <c>dro train</c>, with its default. Written whole to <c>RUN/run.json</c>, so a run
/// says exactly how it was made and <c>--resume</c> continues with the same settings.
/// The defaults were chosen from measurements on the arena tasks (docs/results.md, "Defaults that do
/// not hurt"); the DRO paper's values are the <c>paper</c> profile (<see cref="TrainingProfiles"/>).
/// TRL / the HF Trainer decide the rest (linear schedule, grad clipping at 1.0, weight decay 0,
/// dropout off, warmup as a fraction of the run like <c>warmup_ratio</c>).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>The named set of defaults the options started from (<see cref="TrainingProfiles"/>); recorded, not applied here.</summary>
    [JsonPropertyName("profile")] public string Profile { get; init; } = TrainingProfiles.Default;
    [JsonPropertyName("algo")] public string Algo { get; init; } = "dro-v";
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    /// <summary>Reference policy directory; the initial policy (<see cref="Model"/>) when null.</summary>
    [JsonPropertyName("ref")] public string? Ref { get; init; }
    [JsonPropertyName("data")] public string Data { get; init; } = "";
    [JsonPropertyName("eval_data")] public string? EvalData { get; init; }
    [JsonPropertyName("eval_fraction")] public double? EvalFraction { get; init; }
    [JsonPropertyName("out")] public string Out { get; init; } = "";
    [JsonPropertyName("tau")] public double Tau { get; init; } = 0.3;
    [JsonPropertyName("beta")] public double Beta { get; init; } = 0.1;
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = 3e-5;
    /// <summary>Value network LR; <see cref="LearningRate"/> when null (the paper uses one LR for both).</summary>
    [JsonPropertyName("value_lr")] public double? ValueLearningRate { get; init; }
    [JsonPropertyName("optimizer")] public string Optimizer { get; init; } = "adamw";
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 8;
    [JsonPropertyName("grad_accum")] public int GradientAccumulation { get; init; } = 1;
    /// <summary>Optimiser steps; when null, <see cref="Epochs"/> passes over the data decide.</summary>
    [JsonPropertyName("max_steps")] public int? MaxSteps { get; init; }
    [JsonPropertyName("epochs")] public double Epochs { get; init; } = 1;
    /// <summary>Linear warmup steps; when null, <see cref="WarmupRatio"/> of the run (given steps win, as in the HF Trainer).</summary>
    [JsonPropertyName("warmup_steps")] public int? WarmupSteps { get; init; }
    [JsonPropertyName("warmup_ratio")] public double WarmupRatio { get; init; } = 0.1;
    [JsonPropertyName("schedule")] public string Schedule { get; init; } = "linear";
    /// <summary>Global-norm clipping per network; 0 turns it off.</summary>
    [JsonPropertyName("max_grad_norm")] public double MaxGradNorm { get; init; } = 1.0;
    [JsonPropertyName("max_prompt_length")] public int? MaxPromptLength { get; init; } = 512;
    [JsonPropertyName("max_completion_length")] public int? MaxCompletionLength { get; init; } = 512;
    [JsonPropertyName("normalize_rewards")] public bool NormalizeRewards { get; init; } = true;
    [JsonPropertyName("seed")] public ulong Seed { get; init; } = 42;
    [JsonPropertyName("log_every")] public int LogEvery { get; init; } = 10;
    /// <summary>Evaluate on the held-out split every N steps; null: about every 10 % of the run; 0: only at the end.</summary>
    [JsonPropertyName("eval_every")] public int? EvalEvery { get; init; }
    /// <summary>Held-out prompts the policy is sampled on at each evaluation (KL, EOS rate, lengths); 0: no sampling.</summary>
    [JsonPropertyName("eval_samples")] public int EvalSamples { get; init; } = 32;
    /// <summary>Token limit of those samples; null: twice the longest held-out completion (at most --max-completion-length).</summary>
    [JsonPropertyName("eval_max_new_tokens")] public int? EvalMaxNewTokens { get; init; }
    /// <summary>The held-out metric that picks the step <c>final/</c> holds (<see cref="CheckpointSelector"/>); <c>last</c>: the last step.</summary>
    [JsonPropertyName("select_by")] public string SelectBy { get; init; } = CheckpointSelector.DefaultMetric;
    /// <summary>Stop when <see cref="SelectBy"/> has not improved for this many evaluations (null: never).</summary>
    [JsonPropertyName("early_stop_patience")] public int? EarlyStopPatience { get; init; }
    /// <summary>Warn when KL(π‖π_ref) on held-out samples exceeds this (nats); null: the most the regularised optimum can reach, (max r − min r)/τ.</summary>
    [JsonPropertyName("kl_bound")] public double? KlBound { get; init; }
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
        if (!(WarmupRatio >= 0 && WarmupRatio <= 1)) throw new TrainingException($"--warmup-ratio must be in [0, 1], not {WarmupRatio}");
        if (!TrainingProfiles.Names.Contains(Profile)) throw new TrainingException($"--profile must be one of {string.Join(", ", TrainingProfiles.Names)}, not '{Profile}'");
        if (Schedule is not ("constant" or "linear" or "cosine")) throw new TrainingException($"--schedule must be constant, linear or cosine, not '{Schedule}'");
        if (!(MaxGradNorm >= 0)) throw new TrainingException($"--max-grad-norm must be ≥ 0, not {MaxGradNorm}");
        if (MaxPromptLength is < 1) throw new TrainingException($"--max-prompt-length must be at least 1, not {MaxPromptLength}");
        if (MaxCompletionLength is < 1) throw new TrainingException($"--max-completion-length must be at least 1, not {MaxCompletionLength}");
        if (EvalFraction is { } f && !(f > 0 && f < 1)) throw new TrainingException($"--eval-fraction must be in (0, 1), not {f}");
        if (EvalFraction is not null && EvalData is not null) throw new TrainingException("give --eval-data or --eval-fraction, not both");
        if (LogEvery < 1) throw new TrainingException($"--log-every must be at least 1, not {LogEvery}");
        if (EvalEvery < 0 || SaveEvery < 0 || SaveTotalLimit < 0) throw new TrainingException("--eval-every, --save-every and --save-total-limit must be ≥ 0");
        if (EvalSamples < 0) throw new TrainingException($"--eval-samples must be ≥ 0, not {EvalSamples}");
        if (EvalMaxNewTokens is < 1) throw new TrainingException($"--eval-max-new-tokens must be at least 1, not {EvalMaxNewTokens}");
        if (EarlyStopPatience is < 1) throw new TrainingException($"--early-stop-patience must be at least 1, not {EarlyStopPatience}");
        if (KlBound is { } kb) Positive(kb, "--kl-bound");
        CheckpointSelector.ValidateMetric(SelectBy);
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
