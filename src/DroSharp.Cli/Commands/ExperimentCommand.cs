using System.CommandLine;
using System.Globalization;
using DroSharp.Arena.Pipeline;
using DroSharp.Arena.Reports;
using DroSharp.Arena.Tasks;

namespace DroSharp.Cli.Commands;

/// <summary>
/// <c>dro experiment --task T --algos dro-v,kto-trl,… --seeds N --out DIR</c>: the arena pipeline (tokenizer →
/// init → SFT → samples of π_ref with simulated feedback → every algorithm at every learning rate of the grid →
/// every checkpoint on validation and test prompts → learning rate and step chosen on validation, reported on test),
/// writing DIR/report.md, DIR/results.json, the plots and the runs.
/// </summary>
public static class ExperimentCommand
{
    private static readonly ExperimentConfig Defaults = new();

    public static Command Create()
    {
        var cmd = new Command("experiment",
            "Compare alignment algorithms on a task whose true reward is known: SFT, feedback on samples of the SFT policy, " +
            "each algorithm trained from the same data, its learning rate and step chosen on validation prompts, reported on disjoint test prompts. Writes DIR/report.md, DIR/results.json, plots and runs.");
        var task = Add(cmd, new Option<string>("--task") { Description = $"Task: {string.Join(", ", ArenaTaskCatalog.Names)}.", DefaultValueFactory = _ => Defaults.Task });
        var algos = Add(cmd, new Option<string>("--algos")
        {
            Description = $"Comma-separated algorithms: {string.Join(", ", AlgorithmSpec.Presets)}, each optionally with :tau=X, :beta=X, :value=per-example|single|shared, :label=labels|batch-mean " +
                          "(kto-trl = KTO with TRL's defaults β 0.1 and the thumbs as labels; kto-paper = the DRO paper's KTO, β 5, label = reward above the batch mean).",
            DefaultValueFactory = _ => string.Join(",", Defaults.Algorithms.Select(a => a.Name)),
        });
        var seeds = Add(cmd, new Option<int>("--seeds") { Description = "Number of seeds (1, 2, … N); each seed repeats the whole pipeline.", DefaultValueFactory = _ => Defaults.Seeds.Count });
        var output = Add(cmd, new Option<string?>("--out") { Description = "Output directory (must be empty or absent unless --overwrite)." });
        var render = Add(cmd, new Option<string?>("--render") { Description = "Only rewrite report.md and the plots of this experiment directory from its results.json." });
        var overwrite = Add(cmd, new Option<bool>("--overwrite") { Description = "Replace what an earlier experiment wrote in --out." });
        var resume = Add(cmd, new Option<bool>("--resume") { Description = "Continue an experiment in --out: reuse every SFT run and every trained and evaluated run whose settings match (also to add seeds or algorithms)." });
        var tauSweep = Add(cmd, new Option<string?>("--tau-sweep") { Description = "Also train DRO-V at each of these τ, e.g. 0.1,1,5." });
        var betaSweep = Add(cmd, new Option<string?>("--beta-sweep") { Description = "Also train the paper's KTO at each of these β, e.g. 0.1,1,5." });
        var valueAblation = Add(cmd, new Option<bool>("--value-ablation") { Description = "Also train DRO-V with --value single and shared (the paper's parameter-sharing ablation)." });
        var feedback = Add(cmd, new Option<string>("--feedback") { Description = "thumbs (up with probability σ((r − c)/s)) or score (the true reward).", DefaultValueFactory = _ => "thumbs" });
        feedback.AcceptOnlyFromAmong("thumbs", "score");
        var center = Add(cmd, new Option<double?>("--feedback-center") { Description = "Rater centre c [default: the task's]." });
        var scale = Add(cmd, new Option<double?>("--feedback-scale") { Description = "Rater scale s [default: the task's]." });
        var responses = Add(cmd, new Option<int>("--responses-per-prompt") { Description = $"Responses sampled from π_ref per training prompt.", DefaultValueFactory = _ => Defaults.ResponsesPerPrompt });
        var feedbackPrompts = Add(cmd, new Option<int>("--feedback-prompts") { Description = $"Training prompts with feedback.", DefaultValueFactory = _ => Defaults.FeedbackPrompts });
        var steps = Add(cmd, new Option<int>("--steps") { Description = $"Alignment steps per algorithm.", DefaultValueFactory = _ => Defaults.Steps });
        var lr = Add(cmd, new Option<double>("--lr") { Description = $"Alignment learning rate, policy and value (when there is no --lr-grid).", DefaultValueFactory = _ => Defaults.LearningRate });
        var lrGrid = Add(cmd, new Option<string?>("--lr-grid") { Description = "Learning rates every algorithm is trained with, e.g. 3e-5,1e-4,3e-4; each algorithm's is chosen on the validation prompts." });
        var batch = Add(cmd, new Option<int>("--batch-size") { Description = $"Alignment batch size.", DefaultValueFactory = _ => Defaults.BatchSize });
        var warmup = Add(cmd, new Option<int>("--warmup-steps") { Description = $"Alignment warmup steps.", DefaultValueFactory = _ => Defaults.WarmupSteps });
        var schedule = Add(cmd, new Option<string>("--schedule") { Description = $"Alignment LR after warmup: constant, linear or cosine.", DefaultValueFactory = _ => Defaults.Schedule });
        var optimizer = Add(cmd, new Option<string>("--optimizer") { Description = $"adamw or adafactor.", DefaultValueFactory = _ => Defaults.Optimizer });
        var sftSteps = Add(cmd, new Option<int>("--sft-steps") { Description = $"SFT steps.", DefaultValueFactory = _ => Defaults.SftSteps });
        var sftLr = Add(cmd, new Option<double>("--sft-lr") { Description = $"SFT learning rate.", DefaultValueFactory = _ => Defaults.SftLearningRate });
        var sftExamples = Add(cmd, new Option<int>("--sft-examples") { Description = $"Demonstrations for SFT.", DefaultValueFactory = _ => Defaults.SftExamples });
        var testPrompts = Add(cmd, new Option<int>("--test-prompts", "--eval-prompts") { Description = $"Test prompts for the reported numbers.", DefaultValueFactory = _ => Defaults.TestPrompts });
        var validationPrompts = Add(cmd, new Option<int>("--validation-prompts") { Description = $"Validation prompts for choosing learning rate, step, τ and β (disjoint from the test prompts).", DefaultValueFactory = _ => Defaults.ValidationPrompts });
        var checkpointEvery = Add(cmd, new Option<int>("--checkpoint-every", "--curve-every") { Description = $"Steps between checkpoints (candidates for step selection, points of the curves); 0: the final step only.", DefaultValueFactory = _ => Defaults.CheckpointEvery });
        var optimumSamples = Add(cmd, new Option<int>("--optimum-samples") { Description = "Estimate DRO-V's optimum π* ∝ π_ref·e^{ρ/τ} for each τ from this many samples of π_ref per test prompt (0: off).", DefaultValueFactory = _ => Defaults.OptimumSamples });
        var family = Add(cmd, new Option<string>("--family") { Description = "Model family: t5 (encoder-decoder) or llama (decoder-only; BOS before prompts, EOS after completions).", DefaultValueFactory = _ => ModelSize.T5 });
        family.AcceptOnlyFromAmong([.. ModelSize.Families]);
        var dModel = Add(cmd, new Option<int>("--d-model") { Description = $"Model width.", DefaultValueFactory = _ => Defaults.Model.DModel });
        var dFf = Add(cmd, new Option<int>("--d-ff") { Description = $"Feed-forward width.", DefaultValueFactory = _ => Defaults.Model.DFf });
        var heads = Add(cmd, new Option<int>("--heads") { Description = $"Attention heads (d_kv = d_model / heads).", DefaultValueFactory = _ => Defaults.Model.Heads });
        var layers = Add(cmd, new Option<int?>("--layers")
        {
            Description = $"T5: encoder and decoder layers each [default: {Defaults.Model.EncoderLayers}]. Llama: decoder layers [default: the number whose parameter count is closest to the T5 of the same width and --layers].",
        });
        var trainerDefaults = Add(cmd, new Option<bool>("--trainer-defaults") { Description = "Train each arm with dro train's own defaults and --eval-fraction 0.1 (held-out signals, warnings, best checkpoint) instead of the shared settings above (--steps, --lr, --batch-size, --warmup-steps, --schedule, --optimizer)." });
        var trainOptions = Add(cmd, new Option<string?>("--train-options") { Description = "With --trainer-defaults: a JSON object of dro train options (run.json keys) for every arm, e.g. '{\"batch_size\": 8}'." });
        var keep = Add(cmd, new Option<bool>("--keep-checkpoints") { Description = "Keep the intermediate checkpoints after the curves are evaluated (final/ is always kept)." });

        cmd.SetAction(parse =>
        {
            if (parse.GetValue(render) is { } renderDir) return Render(renderDir);
            if (parse.GetValue(output) is null) throw new UserErrorException("--out is required");
            int n = parse.GetValue(seeds);
            if (n < 1) throw new UserErrorException("--seeds must be at least 1");
            int h = parse.GetValue(heads), d = parse.GetValue(dModel);
            if (h < 1 || d % h != 0) throw new UserErrorException($"--heads {h} must divide --d-model {d}");
            int? givenLayers = parse.GetValue(layers);
            if (givenLayers is < 1) throw new UserErrorException($"--layers must be at least 1, not {givenLayers}");
            var t5Size = new ModelSize { DModel = d, DFf = parse.GetValue(dFf), Heads = h, DKv = d / h, EncoderLayers = givenLayers ?? Defaults.Model.EncoderLayers, DecoderLayers = givenLayers ?? Defaults.Model.DecoderLayers };
            var size = parse.GetValue(family) == ModelSize.Llama
                ? givenLayers is int n2 ? t5Size with { Family = ModelSize.Llama, EncoderLayers = 0, DecoderLayers = n2 } : ModelSize.LlamaMatching(t5Size)
                : t5Size;
            ExperimentConfig config;
            try
            {
                config = new ExperimentConfig
                {
                    Task = parse.GetValue(task)!,
                    Algorithms = AlgorithmSpec.ParseList(parse.GetValue(algos)!),
                    Seeds = Enumerable.Range(1, n).Select(i => (ulong)i).ToList(),
                    OutputDirectory = parse.GetValue(output)!,
                    Feedback = parse.GetValue(feedback) == "score" ? FeedbackMode.Score : FeedbackMode.Thumbs,
                    FeedbackCenter = parse.GetValue(center),
                    FeedbackScale = parse.GetValue(scale),
                    ResponsesPerPrompt = parse.GetValue(responses),
                    FeedbackPrompts = parse.GetValue(feedbackPrompts),
                    Steps = parse.GetValue(steps),
                    LearningRate = parse.GetValue(lr),
                    LearningRates = Numbers(parse.GetValue(lrGrid), "--lr-grid"),
                    BatchSize = parse.GetValue(batch),
                    WarmupSteps = parse.GetValue(warmup),
                    Schedule = parse.GetValue(schedule)!,
                    Optimizer = parse.GetValue(optimizer)!,
                    SftSteps = parse.GetValue(sftSteps),
                    SftLearningRate = parse.GetValue(sftLr),
                    SftExamples = parse.GetValue(sftExamples),
                    TestPrompts = parse.GetValue(testPrompts),
                    ValidationPrompts = parse.GetValue(validationPrompts),
                    CheckpointEvery = parse.GetValue(checkpointEvery),
                    OptimumSamples = parse.GetValue(optimumSamples),
                    Model = size,
                    KeepCheckpoints = parse.GetValue(keep),
                    TrainerDefaults = parse.GetValue(trainerDefaults),
                    TrainOptions = parse.GetValue(trainOptions),
                    CommandLine = "dro " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
                }.WithAblations(Numbers(parse.GetValue(tauSweep), "--tau-sweep"), Numbers(parse.GetValue(betaSweep), "--beta-sweep"), parse.GetValue(valueAblation));
                config.Validate();
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new UserErrorException(e.Message);
            }
            if (parse.GetValue(overwrite) && parse.GetValue(resume)) throw new UserErrorException("give --overwrite or --resume, not both");
            return Run(config, overwrite: parse.GetValue(overwrite), resume: parse.GetValue(resume));
        });
        return cmd;
    }

    /// <summary>Runs the pipeline with progress on stdout and Ctrl+C stopping it; prints the tables of the report.</summary>
    internal static int Run(ExperimentConfig config, bool overwrite, bool resume = false)
    {
        using var stop = new StopSignals("stopping after the current training step…"); // Ctrl-C or SIGTERM; a second one exits at once
        try
        {
            var pipeline = new ArenaPipeline(config, Console.Out);
            var results = pipeline.Run(overwrite, stop.Token, resume);
            Console.WriteLine();
            Console.Write(ResultsTable.Render(results));
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("dro: experiment interrupted; the runs finished so far are in " + config.OutputDirectory + " (continue with the same command and --resume)");
            return 130;
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new UserErrorException(e.Message);
        }
    }

    private static int Render(string directory)
    {
        string json = Path.Combine(directory, ResultsJson.FileName);
        if (!File.Exists(json)) throw new UserErrorException($"{directory} has no {ResultsJson.FileName}");
        ArenaResults results;
        try { results = ResultsJson.Read(json); }
        catch (FormatException e) { throw new UserErrorException(e.Message); }
        foreach (string file in ReportWriter.Write(results, directory)) Console.WriteLine($"wrote {file}");
        Console.Write(ResultsTable.Render(results));
        return 0;
    }

    private static IReadOnlyList<double>? Numbers(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t =>
            double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)
                ? v
                : throw new FormatException($"{option}: '{t}' is not a positive number")).ToList();
    }

    private static Option<T> Add<T>(Command cmd, Option<T> option)
    {
        cmd.Options.Add(option);
        return option;
    }
}
