using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DroSharp.Alignment.Objectives;
using DroSharp.Alignment.Training;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro train</c>: every option of <see cref="TrainingOptions"/>. Options come from the command line
/// or <c>--config FILE.json</c> (same names with underscores: <c>batch_size</c>); the command line wins.
/// </summary>
public static class TrainCommand
{
    private static readonly TrainingOptions Defaults = new();

    private sealed record Spec(Option Option, string Key);

    public static Command Create()
    {
        var cmd = new Command("train", "Align a model on feedback data (DRO-V by default) and write a run directory: run.json, metrics.jsonl, checkpoints/, final/.");
        var specs = new List<Spec>();
        Option<T> Add<T>(string name, string description, object? defaultValue = null, bool showDefault = true)
        {
            var o = new Option<T>(name) { Description = showDefault && defaultValue is not null ? $"{description} [default: {Format(defaultValue)}]" : description };
            cmd.Options.Add(o);
            specs.Add(new Spec(o, name[2..].Replace('-', '_')));
            return o;
        }
        Add<string>("--profile", $"Named defaults: {string.Join(", ", TrainingProfiles.Names)} (paper = the DRO paper's Adafactor, LR 1e-4, 150 warmup steps, batch 32, τ 1); given options win.", Defaults.Profile);
        Add<string>("--algo", $"Objective: {string.Join(", ", ObjectiveFactory.Names)} (sft-pos = SFT on thumbs-up rows).", Defaults.Algo);
        Add<string>("--model", "Policy to train: an HF model directory (config.json, model.safetensors, tokenizer.json) of a supported family.", showDefault: false);
        Add<string>("--ref", "Reference policy π_ref directory.", "the --model policy");
        Add<string>("--data", "Training data: JSONL or CSV in TRL's columns (prompt/completion/label, prompt/completion/reward, prompt/chosen/rejected, prompt/completion; *_ids for token ids; chat messages, or messages, rendered with the chat template).", showDefault: false);
        Add<string>("--eval-data", "Held-out data file (same columns).", showDefault: false);
        Add<double?>("--eval-fraction", "Hold out this fraction of the prompts instead (seeded).", showDefault: false);
        Add<string>("--out", "Run directory to create.", showDefault: false);
        var config = new Option<string?>("--config") { Description = "JSON file of options (keys as the long names with underscores); the command line wins." };
        cmd.Options.Add(config);
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this directory from its last checkpoint, with its saved options (bit-identical to an uninterrupted run)." };
        cmd.Options.Add(resume);
        var allowChanged = new Option<bool>("--allow-changed-inputs") { Description = "With --resume: continue even though the model or data files changed since the run started (recorded in RUN/inputs.json)." };
        cmd.Options.Add(allowChanged);
        Add<double>("--tau", "τ: KL regularisation strength of DRO-V, DRO-P and RPO (larger keeps closer to π_ref).", Defaults.Tau);
        Add<double>("--beta", "β of KTO and DPO.", Defaults.Beta);
        Add<double>("--lr", "Policy learning rate.", Defaults.LearningRate);
        Add<double?>("--value-lr", "Value network learning rate.", "--lr");
        Add<string>("--optimizer", "adamw or adafactor (HF Adafactor with decay rate −0.8, no parameter scaling).", Defaults.Optimizer);
        Add<double>("--weight-decay", "Decoupled weight decay.", Defaults.WeightDecay);
        Add<int>("--batch-size", "Micro-batch size of each process (examples; pairs for DPO).", Defaults.BatchSize);
        Add<int>("--grad-accum", "Micro-batches per optimiser step in each process.", Defaults.GradientAccumulation);
        Add<int?>("--global-batch-size", "Examples per optimiser step over all MPI processes, instead of --grad-accum: each of N processes runs global/(batch-size·N) micro-batches (must divide).", showDefault: false);
        Add<int?>("--max-steps", "Optimiser steps (overrides --epochs).", showDefault: false);
        Add<double>("--epochs", "Passes over the training data.", Defaults.Epochs);
        Add<int?>("--warmup-steps", "Linear warmup steps (wins over --warmup-ratio).", "--warmup-ratio of the run");
        Add<double>("--warmup-ratio", "Linear warmup as a fraction of the run's steps.", Defaults.WarmupRatio);
        Add<string>("--schedule", "After warmup: constant, linear (to 0) or cosine.", Defaults.Schedule);
        Add<double>("--max-grad-norm", "Clip each network's global gradient norm (0: off).", Defaults.MaxGradNorm);
        Add<int?>("--max-prompt-length", "Truncate prompts to their last N tokens.", Defaults.MaxPromptLength);
        Add<int?>("--max-completion-length", "Truncate completions to their first N tokens.", Defaults.MaxCompletionLength);
        Add<bool>("--normalize-rewards", "z-normalise rewards over the training set (true|false).", Defaults.NormalizeRewards);
        Add<ulong>("--seed", "Seed of shuffling, splits and the value head.", Defaults.Seed);
        Add<int>("--log-every", "Write metrics every N steps.", Defaults.LogEvery);
        Add<int?>("--eval-every", "Evaluate on the held-out split every N steps (0: at the end only).", "about every 10 % of the run");
        Add<int>("--eval-samples", "Held-out prompts sampled at each evaluation for KL(π‖π_ref), EOS rate and length (0: none).", Defaults.EvalSamples);
        Add<int?>("--eval-max-new-tokens", "Token limit of those samples.", "twice the longest held-out completion");
        Add<string>("--select-by", $"Held-out metric that picks the step final/ holds among the evaluations that pass the KL, EOS and length checks (eval_*, e.g. {CheckpointSelector.AccuracyMetric}; lower is better for *loss and *kl), or {CheckpointSelector.Last}.", Defaults.SelectBy);
        Add<int?>("--early-stop-patience", "Stop after N evaluations without improvement of --select-by.", showDefault: false);
        Add<double?>("--kl-bound", "Warn when held-out KL(π‖π_ref) exceeds this many nats.", "(max r − min r)/τ");
        Add<int>("--save-every", "Checkpoint every N steps (0: final only).", Defaults.SaveEvery);
        Add<int>("--save-total-limit", "Checkpoints kept (0: all).", Defaults.SaveTotalLimit);
        Add<bool>("--skip-bad-rows", "Skip malformed rows (counted and listed in data_report.json) instead of stopping.", Defaults.SkipBadRows);
        Add<string>("--value", "DRO-V value: per-example (separate network), single (one learned value), shared (head on the policy encoder).", Defaults.Value);
        Add<bool>("--precompute-ref", "Score every row with the reference before the first step, instead of lazily per micro-batch the first time a row is seen (both are cached in the run).", Defaults.PrecomputeReference);
        Add<bool>("--length-normalize", "Divide sequence log-probs by the completion length (changes DRO's fixed point).", Defaults.LengthNormalize);
        Add<double>("--desirable-weight", "KTO λ_D.", Defaults.DesirableWeight);
        Add<double>("--undesirable-weight", "KTO λ_U.", Defaults.UndesirableWeight);
        Add<string>("--kto-label", "KTO labels: labels (the data's) or batch-mean (reward above the micro-batch mean, as the DRO paper's KTO).", Defaults.KtoLabel);
        Add<double>("--up-reward", "Reward of a thumbs-up label.", Defaults.UpReward);
        Add<double>("--down-reward", "Reward of a thumbs-down label.", Defaults.DownReward);
        Add<string>("--chat-template", ChatTemplateOptions.TemplateDescription, showDefault: false);
        Add<string>("--chat-template-kwargs", ChatTemplateOptions.KwargsDescription, showDefault: false);
        Add<int>("--lora", "LoRA rank r: train low-rank adapters (PEFT format) on a frozen base that the policy, the reference and the value network share, " +
                           "so memory is about one model plus adapters. 0 trains every weight (full fine-tuning). Prefer LoRA (e.g. --lora 16) for models over " +
                           "~50M parameters, where three full-precision copies with AdamW states do not fit or are slow; full fine-tuning suits smaller models.", Defaults.Lora);
        Add<double?>("--lora-alpha", "LoRA α: the adapters' scale is α/r.", "2·r");
        Add<double>("--lora-dropout", "Dropout on the adapters' inputs while training.", Defaults.LoraDropout);
        Add<string>("--lora-targets", "Modules that get adapters: PEFT target_modules names, comma-separated, matched as suffixes of module paths (q_proj,v_proj), or all-linear (every Linear but the output head).", Defaults.LoraTargets);
        Add<bool>("--use-rslora", "rsLoRA: scale α/√r instead of α/r.", Defaults.UseRsLora);
        Add<string>("--base-dtype", "With --lora: store the frozen base's Linear weights in bf16 (half the memory and bandwidth; embeddings and norms stay f32) or f32.", Defaults.BaseDtype);
        Add<bool>("--gradient-checkpointing", "Keep only each transformer block's input and recompute its forward in backward: less activation memory, about one more forward per step.", Defaults.GradientCheckpointing);

        cmd.SetAction(parse =>
        {
            TrainingOptions options;
            string? resumeDir = parse.GetValue(resume);
            if (resumeDir is not null)
            {
                var given = specs.Where(s => parse.GetResult(s.Option) is { Implicit: false }).Select(s => "--" + s.Key.Replace('_', '-')).ToList();
                if (given.Count > 0 || parse.GetValue(config) is not null)
                    throw new UserErrorException($"--resume continues with the run's saved options; do not also give {string.Join(", ", given.DefaultIfEmpty("--config"))}");
                string optionsFile = new RunDirectory(resumeDir).OptionsFile;
                if (!File.Exists(optionsFile)) throw new UserErrorException($"{resumeDir} is not a run directory (no run.json)");
                options = TrainingOptions.FromJson(File.ReadAllText(optionsFile), optionsFile) with { Out = resumeDir };
            }
            else
            {
                var json = new JsonObject();
                if (parse.GetValue(config) is { } configPath)
                {
                    if (!File.Exists(configPath)) throw new UserErrorException($"config file {configPath} does not exist");
                    try { json = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject() ?? new JsonObject(); }
                    catch (System.Text.Json.JsonException e) { throw new UserErrorException($"{configPath}: not a JSON object ({e.Message})"); }
                }
                foreach (var s in specs)
                {
                    var result = parse.GetResult(s.Option);
                    if (result is null || result.Implicit) continue;
                    json[s.Key] = JsonValue.Create(result.GetValueOrDefault<object>());
                }
                string profile = json["profile"] is JsonValue pv && pv.TryGetValue(out string? name) ? name : json["profile"] is null ? Defaults.Profile
                    : throw new UserErrorException($"profile must be a name ({string.Join(", ", TrainingProfiles.Names)}), not {json["profile"]!.ToJsonString()}");
                try { TrainingProfiles.Apply(json, profile); } catch (TrainingException e) { throw new UserErrorException(e.Message); }
                options = TrainingOptions.FromJson(json.ToJsonString(), parse.GetValue(config) ?? "the command line");
            }
            try { options.Validate(); } catch (TrainingException e) { throw new UserErrorException(e.Message); }
            if (parse.GetValue(allowChanged) && resumeDir is null) throw new UserErrorException("--allow-changed-inputs applies to --resume only");

            using var stop = new StopSignals("stopping within this step; saving a checkpoint…");
            try
            {
                // One process, or one rank of `mpirun -np N dro train …` (rank 0 alone logs and writes the run).
                return DataParallelRun.Run(stop, reducer =>
                {
                    var tokenizer = ModelDirectory.LoadTokenizer(options.Model);
                    var chatTemplate = ChatTemplateOptions.Load(options.Model, options.ChatTemplate);
                    var log = reducer.Rank == 0 ? Console.Error : TextWriter.Null;
                    using var trainer = new AlignmentTrainer(options,
                        policy => ModelDirectory.Encoder(tokenizer, policy.Tokens, chatTemplate, options.ChatTemplateVariables()), log, reducer)
                        { AllowChangedInputs = parse.GetValue(allowChanged) };
                    var result = trainer.Train(resumeDir is not null, stop.Token);
                    if (result.Interrupted) return DataParallelRun.InterruptedExitCode;
                    if (reducer.Rank != 0) return 0;
                    Console.WriteLine($"done: {result.Steps} steps in {result.ElapsedSeconds:F1} s; model in {result.FinalDirectory}");
                    foreach (var (k, v) in result.LastMetrics.Where(kv => kv.Key is "loss" or "eval_loss" or "residual/mean" or "value/mean" or "kl" or "rewards/margins"
                                 or CheckpointSelector.AccuracyMetric or HeldOutMetricNames.Kl or HeldOutMetricNames.EosRate))
                        Console.WriteLine($"  {k} {v.ToString("G5", CultureInfo.InvariantCulture)}");
                    Console.WriteLine($"report: {ReportCommand.WriteReport(options.Out, null)}");
                    return 0;
                });
            }
            catch (Exception e) when (CliErrors.Unwrap(e) is IOException or UnauthorizedAccessException)
            {
                throw new UserErrorException(TrainFailure.Describe(CliErrors.Unwrap(e), options.Out));
            }
        });
        return cmd;
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => value.ToString() ?? "",
    };
}
