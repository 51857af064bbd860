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
    /// <summary>
    /// Examples (pairs for DPO) per optimiser step over all processes; when set, each process runs
    /// <see cref="MicroBatchesPerProcess"/> micro-batches (instead of <see cref="GradientAccumulation"/>),
    /// so the same run.json trains alike on any number of processes that divides it.
    /// </summary>
    [JsonPropertyName("global_batch_size")] public int? GlobalBatchSize { get; init; }
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

    /// <summary>
    /// A Jinja chat template file that renders conversational rows instead of the model's own (read by <c>dro train</c>'s
    /// encoder; copied into <c>final/</c> as <c>chat_template.jinja</c>, so the trained model keeps it).
    /// </summary>
    [JsonPropertyName("chat_template")] public string? ChatTemplate { get; init; }

    /// <summary>
    /// Extra chat template variables (TRL's <c>chat_template_kwargs</c>, e.g. <c>{"enable_thinking": false}</c>): a JSON
    /// object, or its JSON text as the command line gives it. See <see cref="ChatTemplateVariables"/>.
    /// </summary>
    [JsonPropertyName("chat_template_kwargs")] public JsonElement? ChatTemplateKwargs { get; init; }

    /// <summary>The variables of <see cref="ChatTemplateKwargs"/> (null when unset); throws <see cref="TrainingException"/> unless it is an object.</summary>
    public IReadOnlyDictionary<string, object?>? ChatTemplateVariables()
    {
        if (ChatTemplateKwargs is not JsonElement kw || kw.ValueKind == JsonValueKind.Null) return null;
        var obj = kw;
        if (kw.ValueKind == JsonValueKind.String)
        {
            try
            {
                using var doc = JsonDocument.Parse(kw.GetString()!);
                obj = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new TrainingException($"--chat-template-kwargs: not valid JSON ({e.Message})");
            }
        }
        if (obj.ValueKind != JsonValueKind.Object)
            throw new TrainingException("--chat-template-kwargs: expected a JSON object of template variables, e.g. {\"enable_thinking\": false}");
        return obj.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
    }

    /// <summary>
    /// Micro-batches each of <paramref name="processes"/> data-parallel processes runs per optimiser
    /// step: <see cref="GradientAccumulation"/>, or <see cref="GlobalBatchSize"/> / (<see cref="BatchSize"/>
    /// × processes), which must be a whole number (a user error otherwise).
    /// </summary>
    public int MicroBatchesPerProcess(int processes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(processes, 1);
        if (GlobalBatchSize is not { } global) return GradientAccumulation;
        long perRound = (long)BatchSize * processes;
        if (global % perRound != 0)
            throw new TrainingException($"--global-batch-size {global} does not divide into {processes} process(es) × micro-batches of {BatchSize} (--batch-size): " +
                                        $"use a global batch that is a multiple of {perRound}, or another number of processes");
        return (int)(global / perRound);
    }

    /// <summary>LoRA rank r: train adapters on a frozen base shared by the policy, the reference and the value network; 0 trains every weight (the default).</summary>
    [JsonPropertyName("lora")] public int Lora { get; init; }
    /// <summary>LoRA α (scale α/r); 2·r when null, as TRL's defaults (r 16, α 32).</summary>
    [JsonPropertyName("lora_alpha")] public double? LoraAlpha { get; init; }
    /// <summary>Dropout on the adapters' inputs (TRL's default 0.05).</summary>
    [JsonPropertyName("lora_dropout")] public double LoraDropout { get; init; } = 0.05;
    /// <summary>Modules that get adapters: PEFT target_modules names, comma-separated (suffix match), or all-linear.</summary>
    [JsonPropertyName("lora_targets")] public string LoraTargets { get; init; } = Models.Lora.LoraTargets.AllLinear;
    /// <summary>rsLoRA: scale α/√r instead of α/r.</summary>
    [JsonPropertyName("use_rslora")] public bool UseRsLora { get; init; }
    /// <summary>Storage of the frozen base's Linear weights with LoRA: f32 or bf16.</summary>
    [JsonPropertyName("base_dtype")] public string BaseDtype { get; init; } = "f32";
    /// <summary>Recompute each transformer block's forward in its backward instead of keeping its activations.</summary>
    [JsonPropertyName("gradient_checkpointing")] public bool GradientCheckpointing { get; init; }

    [JsonIgnore] public double EffectiveValueLearningRate => ValueLearningRate ?? LearningRate;

    /// <summary>The adapters' hyper-parameters, or null without <see cref="Lora"/>.</summary>
    public Models.Lora.LoraOptions? LoraOptions() => Lora == 0 ? null : new Models.Lora.LoraOptions
    {
        Rank = Lora, Alpha = LoraAlpha ?? 2.0 * Lora, Dropout = LoraDropout,
        Targets = Models.Lora.LoraTargets.Parse(LoraTargets), UseRsLora = UseRsLora,
    };

    [JsonIgnore] public Models.Lora.BaseWeightDtype BaseWeightDtype => BaseDtype switch
    {
        "f32" => Models.Lora.BaseWeightDtype.Float32,
        "bf16" => Models.Lora.BaseWeightDtype.BFloat16,
        _ => throw new TrainingException($"--base-dtype must be f32 or bf16, not '{BaseDtype}'"),
    };

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
        if (GlobalBatchSize is { } global)
        {
            if (GradientAccumulation != 1) throw new TrainingException("give --global-batch-size or --grad-accum, not both (the global batch decides the micro-batches per process)");
            if (global < 1 || global % BatchSize != 0)
                throw new TrainingException($"--global-batch-size must be a positive multiple of --batch-size {BatchSize}, not {global}");
        }
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
        // A value like 1e999 in run.json or --config reads as infinity: no option may be infinite or NaN.
        foreach (var (name, v) in new (string, double?)[]
                 {
                     ("--tau", Tau), ("--beta", Beta), ("--lr", LearningRate), ("--value-lr", ValueLearningRate), ("--weight-decay", WeightDecay),
                     ("--epochs", Epochs), ("--max-grad-norm", MaxGradNorm), ("--eval-fraction", EvalFraction), ("--desirable-weight", DesirableWeight),
                     ("--undesirable-weight", UndesirableWeight), ("--up-reward", UpReward), ("--down-reward", DownReward), ("--kl-bound", KlBound),
                 })
            if (v is double d && !double.IsFinite(d)) throw new TrainingException($"{name} must be a finite number, not {d}");
        if (EvalSamples < 0) throw new TrainingException($"--eval-samples must be ≥ 0, not {EvalSamples}");
        if (EvalMaxNewTokens is < 1) throw new TrainingException($"--eval-max-new-tokens must be at least 1, not {EvalMaxNewTokens}");
        if (EarlyStopPatience is < 1) throw new TrainingException($"--early-stop-patience must be at least 1, not {EarlyStopPatience}");
        if (KlBound is { } kb) Positive(kb, "--kl-bound");
        CheckpointSelector.ValidateMetric(SelectBy);
        _ = ValueMode;
        _ = ObjectiveOptions();
        _ = ChatTemplateVariables();
        if (Value != "per-example" && Algo != "dro-v") throw new TrainingException($"--value {Value} applies to dro-v only");
        ValidateLora();
    }

    private void ValidateLora()
    {
        _ = BaseWeightDtype;
        if (Lora < 0) throw new TrainingException($"--lora must be a rank ≥ 1 (or 0 for full fine-tuning), not {Lora}");
        if (Lora == 0)
        {
            if (BaseDtype != "f32") throw new TrainingException("--base-dtype bf16 stores a frozen base: it needs --lora R");
            if (LoraAlpha is not null || LoraDropout != 0.05 || LoraTargets != Models.Lora.LoraTargets.AllLinear || UseRsLora)
                throw new TrainingException("--lora-alpha, --lora-dropout, --lora-targets and --use-rslora apply to LoRA training: give --lora R");
            return;
        }
        if (LoraAlpha is { } a) Positive(a, "--lora-alpha");
        if (!(LoraDropout >= 0 && LoraDropout < 1)) throw new TrainingException($"--lora-dropout must be in [0, 1), not {LoraDropout}");
        var targets = Models.Lora.LoraTargets.Parse(LoraTargets);
        if (targets.Count == 0) throw new TrainingException("--lora-targets is empty; give module names (q_proj,v_proj) or all-linear");
        if (targets.Count > 1 && targets.Contains(Models.Lora.LoraTargets.AllLinear)) throw new TrainingException("--lora-targets: all-linear cannot be combined with module names");
        if (Ref is not null && Path.GetFullPath(Ref) != Path.GetFullPath(Model))
            throw new TrainingException("--ref: with --lora the reference is the --model base with adapters off (no second model); train without --ref");
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
