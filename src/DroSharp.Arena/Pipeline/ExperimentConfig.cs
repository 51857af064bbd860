using System.Globalization;
using DroSharp.Arena.Tasks;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// Everything an arena experiment does, with its defaults. Per seed: a tokenizer → a fresh model (T5 or Llama,
/// <see cref="Model"/>) → SFT on the task's imperfect demonstrations (this policy is π_ref and the behaviour policy
/// μ) → <see cref="ResponsesPerPrompt"/> responses sampled from μ for each of <see cref="FeedbackPrompts"/> training
/// prompts → simulated feedback → every algorithm trained from π_ref on the same data, once per learning rate of
/// <see cref="LearningRates"/>, with a checkpoint every <see cref="CheckpointEvery"/> steps → every checkpoint
/// evaluated on the validation and the test prompts. After the last seed, each algorithm's learning rate and step
/// are chosen on validation (<see cref="HyperparameterSelection"/>) and its test numbers at that point reported.
/// </summary>
public sealed record ExperimentConfig
{
    public string Task { get; init; } = "sentiment";

    /// <summary>The arms, in report order; the SFT policy π_ref is always evaluated as the baseline "sft".</summary>
    public IReadOnlyList<AlgorithmSpec> Algorithms { get; init; } = AlgorithmSpec.ParseList("dro-v,kto-trl,kto-paper,sft-pos");

    public IReadOnlyList<ulong> Seeds { get; init; } = [1, 2, 3];

    public string OutputDirectory { get; init; } = "arena";

    public ModelSize Model { get; init; } = new();

    // ---------------------------------------------------------------- SFT (π_ref)

    /// <summary>Demonstrations (prompt, imperfect completion) for SFT.</summary>
    public int SftExamples { get; init; } = 30000;

    public int SftSteps { get; init; } = 4000;
    public int SftBatchSize { get; init; } = 32;
    public double SftLearningRate { get; init; } = 1e-3;
    public int SftWarmupSteps { get; init; } = 100;

    // ---------------------------------------------------------------- feedback on samples of μ = π_ref

    /// <summary>Training prompts drawn (with replacement) for the feedback data.</summary>
    public int FeedbackPrompts { get; init; } = 2048;

    /// <summary>Responses sampled from μ per prompt (1: single-trajectory, as in the paper).</summary>
    public int ResponsesPerPrompt { get; init; } = 1;

    public FeedbackMode Feedback { get; init; } = FeedbackMode.Thumbs;

    /// <summary>Rater centre c of σ((r − c)/s); the task's default when null.</summary>
    public double? FeedbackCenter { get; init; }

    /// <summary>Rater scale s of σ((r − c)/s); the task's default when null.</summary>
    public double? FeedbackScale { get; init; }

    // ---------------------------------------------------------------- alignment (the same for every arm)

    public int Steps { get; init; } = 300;
    public int BatchSize { get; init; } = 32;

    /// <summary>The learning rate when <see cref="LearningRates"/> is null (no learning-rate selection).</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>
    /// The learning-rate grid every algorithm is trained with (policy and value network alike); the one chosen on
    /// validation is reported. Null: <see cref="LearningRate"/> only. An algorithm's own <c>:lr=</c> replaces the grid.
    /// </summary>
    public IReadOnlyList<double>? LearningRates { get; init; }
    public int WarmupSteps { get; init; } = 15;
    public string Schedule { get; init; } = "constant";
    public string Optimizer { get; init; } = "adamw";

    // ---------------------------------------------------------------- evaluation and selection

    /// <summary>Validation prompts: every checkpoint is scored on them and the learning rate, step, τ and β are chosen on them.</summary>
    public int ValidationPrompts { get; init; } = 256;

    /// <summary>Test prompts for the reported numbers (the same for every arm and seed; never used to choose anything).</summary>
    public int TestPrompts { get; init; } = 256;

    /// <summary>
    /// Steps between checkpoints; each is a candidate for step selection and a point of the curves. 0: only the
    /// final step is a candidate (no step selection, no curves).
    /// </summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>
    /// Samples of π_ref per test prompt for estimating the KL-regularised optimum π* of each DRO-V τ
    /// (<see cref="Reports.KlRegularisedOptimum"/>); 0: no estimate.
    /// </summary>
    public int OptimumSamples { get; init; }

    /// <summary>Prompts decoded together.</summary>
    public int GenerationBatchSize { get; init; } = 64;

    /// <summary>Keep each run's checkpoints after they are evaluated (they are deleted by default; final/ is always kept).</summary>
    public bool KeepCheckpoints { get; init; }

    /// <summary>
    /// Train every arm as <c>dro train</c> with its defaults would, on 90 % of the feedback (<see cref="TrainerDefaultsArm"/>):
    /// the shared alignment settings above (steps, batch, LR, warmup, schedule, optimiser) are then not used.
    /// </summary>
    public bool TrainerDefaults { get; init; }

    /// <summary>With <see cref="TrainerDefaults"/>: run.json keys (a JSON object) set for every arm, e.g. <c>{"batch_size": 8, "epochs": 3}</c>.</summary>
    public string? TrainOptions { get; init; }

    /// <summary>The command that started the experiment, recorded in the report when given.</summary>
    public string? CommandLine { get; init; }

    /// <summary>Example completions per arm in the report (first seed).</summary>
    public int SampleCount { get; init; } = 3;

    /// <summary>
    /// Adds the ablation arms: DRO-V at each τ of <paramref name="taus"/> and the paper's KTO at each β of
    /// <paramref name="betas"/> (group "sweep"), and DRO-V with a single and a shared value (group "value").
    /// The base arms are the first DRO-V with a per-example value and the first batch-mean KTO of the list (the
    /// presets <c>dro-v</c> and <c>kto-paper</c> when the list has none); an arm that trains exactly as one already
    /// listed is not added again.
    /// </summary>
    public ExperimentConfig WithAblations(IReadOnlyList<double>? taus, IReadOnlyList<double>? betas, bool valueAblation)
    {
        var arms = Algorithms.ToList();
        var keys = arms.Select(a => a.TrainingKey).ToHashSet(StringComparer.Ordinal);
        void Add(AlgorithmSpec spec)
        {
            if (keys.Add(spec.TrainingKey)) arms.Add(spec);
        }
        var drov = arms.FirstOrDefault(a => a.IsDroV && a.Value == "per-example" && a.LearningRate is null) ?? AlgorithmSpec.Parse("dro-v");
        var kto = arms.FirstOrDefault(a => a.IsKto && a.KtoLabel == "batch-mean" && a.LearningRate is null) ?? AlgorithmSpec.Parse("kto-paper");
        foreach (double tau in taus ?? []) Add(drov.WithRegularisation(tau) with { Group = AlgorithmSpec.SweepGroup });
        foreach (double beta in betas ?? []) Add(kto.WithRegularisation(beta) with { Group = AlgorithmSpec.SweepGroup });
        if (valueAblation)
            foreach (string value in new[] { "single", "shared" }) Add(drov.WithValue(value) with { Group = AlgorithmSpec.ValueGroup });
        return this with { Algorithms = arms };
    }

    /// <summary>The learning rates <paramref name="arm"/> is trained with: its own, else the grid, else the shared one.</summary>
    public IReadOnlyList<double> LearningRatesFor(AlgorithmSpec arm)
    {
        ArgumentNullException.ThrowIfNull(arm);
        return arm.LearningRate is double own ? [own] : LearningRates ?? [LearningRate];
    }

    public FeedbackThreshold Threshold(ArenaTask task) => new(FeedbackCenter ?? task.DefaultFeedback.Center, FeedbackScale ?? task.DefaultFeedback.Scale);

    /// <summary>A clear error naming the first bad setting.</summary>
    public void Validate()
    {
        _ = ArenaTaskCatalog.Create(Task);
        if (Algorithms is null || Algorithms.Count == 0) throw new ArgumentException("give at least one algorithm");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in Algorithms)
        {
            if (a.Name == ArenaPipeline.SftName) throw new ArgumentException($"algorithm name '{a.Name}' is reserved for the SFT baseline");
            if (!names.Add(a.Name)) throw new ArgumentException($"algorithm '{a.Name}' is listed twice");
            if (!keys.Add(a.TrainingKey)) throw new ArgumentException($"algorithm '{a.Name}' trains exactly as another one listed");
            if (a.Objective == "rpo" && ResponsesPerPrompt < 2) throw new ArgumentException("rpo needs several responses per prompt: set responses per prompt ≥ 2");
        }
        if (Seeds is null || Seeds.Count == 0) throw new ArgumentException("give at least one seed");
        if (Seeds.Distinct().Count() != Seeds.Count) throw new ArgumentException("seeds must be distinct");
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException("an output directory is required");
        Model.Validate();
        AtLeast(SftExamples, 1, "SFT examples"); AtLeast(SftSteps, 1, "SFT steps"); AtLeast(SftBatchSize, 1, "SFT batch size");
        AtLeast(SftWarmupSteps, 0, "SFT warmup steps"); Positive(SftLearningRate, "SFT learning rate");
        AtLeast(FeedbackPrompts, 2, "feedback prompts"); AtLeast(ResponsesPerPrompt, 1, "responses per prompt");
        if (FeedbackPrompts * ResponsesPerPrompt < BatchSize) throw new ArgumentException($"{FeedbackPrompts * ResponsesPerPrompt} feedback rows are fewer than one batch ({BatchSize})");
        if (FeedbackScale is { } s) Positive(s, "feedback scale");
        if (FeedbackCenter is { } c && !double.IsFinite(c)) throw new ArgumentException($"feedback centre must be finite, not {c}");
        AtLeast(Steps, 1, "steps"); AtLeast(BatchSize, 2, "batch size"); AtLeast(WarmupSteps, 0, "warmup steps"); Positive(LearningRate, "learning rate");
        if (LearningRates is not null)
        {
            if (LearningRates.Count == 0) throw new ArgumentException("the learning-rate grid is empty");
            foreach (double lr in LearningRates) Positive(lr, "every learning rate of the grid");
            if (LearningRates.Distinct().Count() != LearningRates.Count) throw new ArgumentException("the learning-rate grid lists a value twice");
        }
        if (Schedule is not ("constant" or "linear" or "cosine")) throw new ArgumentException($"schedule must be constant, linear or cosine, not '{Schedule}'");
        if (Optimizer is not ("adamw" or "adafactor")) throw new ArgumentException($"optimizer must be adamw or adafactor, not '{Optimizer}'");
        AtLeast(ValidationPrompts, 1, "validation prompts"); AtLeast(TestPrompts, 1, "test prompts"); AtLeast(CheckpointEvery, 0, "checkpoint interval");
        if (OptimumSamples is < 0 or 1) throw new ArgumentException($"optimum samples must be 0 (off) or at least 2, not {OptimumSamples}");
        AtLeast(GenerationBatchSize, 1, "generation batch size"); AtLeast(SampleCount, 0, "sample count");
    }

    /// <summary>Every setting as text, for the report's settings table.</summary>
    public Dictionary<string, string> Describe(ArenaTask task, int vocabSize)
    {
        string I(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
        var threshold = Threshold(task);
        var settings = new Dictionary<string, string>
        {
            ["task"] = Task,
            ["seeds"] = string.Join(", ", Seeds),
            ["model"] = I($"{Model}, {(Model.IsDecoderOnly ? "RMSNorm, RoPE, SiLU-gated MLP, untied head" : "gated-GELU, untied head, dropout 0")}, vocab {vocabSize} (word-level tokenizer trained on the task{(Model.IsDecoderOnly ? "; BOS before every prompt, EOS after every completion" : "; </s> after every text")})"),
            ["sft"] = I($"{SftExamples} demonstrations, {SftSteps} steps × batch {SftBatchSize}, AdamW, LR {Reports.SelectionReport.Lr(SftLearningRate)} ({SftWarmupSteps} warmup steps, then linear decay)"),
            ["feedback data"] = I($"{FeedbackPrompts} training prompts × {ResponsesPerPrompt} response(s) sampled from π_ref at temperature 1"),
            ["feedback"] = Feedback == FeedbackMode.Thumbs
                ? I($"thumbs up with probability σ((r − c)/s), c = {threshold.Center}, s = {threshold.Scale}")
                : "the true reward r (scalar score)",
            ["alignment"] = I($"{Steps} steps × batch {BatchSize}, {Optimizer}, the same LR for the policy and the value network, {WarmupSteps} warmup steps then {Schedule}; gradient clipping 1.0; rewards z-normalised by the trainer"),
            ["learning rates"] = LearningRates is null
                ? $"{Reports.SelectionReport.Lr(LearningRate)} (unless an algorithm's name gives its own :lr)"
                : $"grid {string.Join(", ", LearningRates.Select(Reports.SelectionReport.Lr))} for every algorithm without its own :lr",
            ["selection"] = CheckpointEvery > 0
                ? I($"per algorithm, the learning rate and the checkpoint (every {CheckpointEvery} steps) with the highest mean over seeds of the win rate against SFT on the {ValidationPrompts} validation prompts; τ and β likewise; reported on the {TestPrompts} test prompts")
                : I($"per algorithm, the learning rate with the highest mean over seeds of the win rate against SFT on the {ValidationPrompts} validation prompts, at the final step; reported on the {TestPrompts} test prompts"),
            ["evaluation"] = I($"{TestPrompts} test prompts (validation: {ValidationPrompts} others; both held out from training); one sample per prompt at temperature 1 (no top-k/top-p), same sampling seed for every policy; greedy decoding; max {task.MaxCompletionTokens + 1} new tokens"),
            ["curves"] = CheckpointEvery > 0 ? I($"every {CheckpointEvery} steps at the selected learning rate, on the test prompts") : "off",
            ["kl"] = "mean over the policy's own samples of log π(y|x) − log π_ref(y|x) (sequence level, nats)",
            ["win rate"] = "per prompt, the policy's sample against the SFT policy's sample (same sampling seed), ties ½",
        };
        if (TrainerDefaults)
            settings["alignment"] = "dro train's defaults (TrainingOptions) with --eval-fraction 0.1, the held-out split taken from the feedback" +
                                    (string.IsNullOrWhiteSpace(TrainOptions) ? "" : $", and {TrainOptions}") + "; final/ is the step --select-by picked";
        if (OptimumSamples > 0)
            settings["optimum"] = I($"π* ∝ π_ref·e^{{ρ/τ}} per DRO-V τ: {OptimumSamples} samples of π_ref per test prompt, self-normalised importance weights; ρ = the rater's expected rating, z-normalised as the trainer normalises the feedback");
        if (!string.IsNullOrWhiteSpace(CommandLine)) settings["command"] = CommandLine;
        return settings;
    }

    private static void AtLeast(int v, int min, string what)
    {
        if (v < min) throw new ArgumentException($"{what} must be at least {min}, not {v}");
    }

    private static void Positive(double v, string what)
    {
        if (!(v > 0) || !double.IsFinite(v)) throw new ArgumentException($"{what} must be a positive number, not {v}");
    }
}
