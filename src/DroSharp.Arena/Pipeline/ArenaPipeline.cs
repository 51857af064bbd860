using DroSharp.Models.Checkpoints;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;
using DroSharp.Arena.Reports;
using DroSharp.Arena.Tasks;
using DroSharp.Models;
using DroSharp.Models.Generation;
using DroSharp.Tensors;
using DroSharp.Text;
using DroSharp.Text.Training;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// Runs an arena experiment end to end through the library APIs (no shelling out), then writes the report:
///
///   DIR/tokenizer.json                          word-level, trained on the task's corpus (every seed shares it)
///   DIR/seed-S/init/                            a fresh model (HF directory; T5 or Llama)
///   DIR/seed-S/sft_data.jsonl, sft/             SFT on demonstrations; sft/final is π_ref (= μ)
///   DIR/seed-S/feedback.jsonl                   samples of μ with simulated feedback (and their true reward)
///   DIR/seed-S/runs/NAME/lr-X/                  one trainer run per algorithm and learning rate (run.json, metrics.jsonl, final/)
///   DIR/seed-S/runs/NAME/eval.jsonl             the test evaluation at the selected learning rate and step
///   DIR/seed-S/runs/NAME/eval_validation.jsonl  the validation evaluation there
///   DIR/seed-S/eval_sft.jsonl                   π_ref's test evaluation
///   DIR/results.json, DIR/report.md, DIR/*.svg  the report
///
/// Every checkpoint of every run is evaluated on the validation and the test prompts (disjoint, both held out from
/// training); after the last seed each algorithm's learning rate and step are chosen from the validation numbers alone
/// (<see cref="HyperparameterSelection"/>) and the test numbers of that point are reported. A run whose loss stops
/// being finite, or that cannot start, is recorded (seed, learning rate, step) and the experiment goes on.
/// Everything is seeded: a run is bit-identical when repeated with the same configuration (timings aside).
/// </summary>
public sealed class ArenaPipeline
{
    /// <summary>Report name of the SFT policy π_ref, the baseline of every win rate.</summary>
    public const string SftName = "sft";

    private readonly ExperimentConfig _config;
    private readonly TextWriter _log;
    private readonly ArenaTask _task;
    private bool _resume;

    public ArenaPipeline(ExperimentConfig config, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(log);
        config.Validate();
        _config = config;
        _log = log;
        _task = ArenaTaskCatalog.Create(config.Task);
    }

    public ExperimentConfig Config => _config;

    /// <summary>Directory of one algorithm's runs under a seed directory (names may hold ':' and '=').</summary>
    public static string RunDirectoryName(string algorithm) => algorithm.Replace(':', '_').Replace('=', '-');

    /// <summary>Directory of one learning rate's run under an algorithm's directory, e.g. <c>lr-1e-4</c>.</summary>
    public static string LearningRateDirectoryName(double learningRate) => "lr-" + learningRate.ToString("0.###e+0", CultureInfo.InvariantCulture);

    /// <summary>
    /// Runs every seed, selects, and writes the report. <paramref name="overwrite"/> first deletes what an earlier run
    /// of the pipeline wrote into the output directory; <paramref name="resume"/> keeps it and reuses every SFT run and
    /// every trained-and-evaluated run whose settings match (an interrupted experiment continues where it stopped, and
    /// seeds or algorithms can be added later); otherwise the directory must be empty or absent.
    /// </summary>
    public ArenaResults Run(bool overwrite = false, CancellationToken cancel = default, bool resume = false)
    {
        if (overwrite && resume) throw new ArgumentException("overwrite and resume exclude each other");
        _resume = resume;
        var clock = Stopwatch.StartNew();
        string root = Path.GetFullPath(_config.OutputDirectory);
        if (!resume) PrepareOutputDirectory(root, overwrite);
        Directory.CreateDirectory(root);

        var tokenizer = TrainTokenizer(root);
        var validationPrompts = _task.ValidationPrompts(_config.ValidationPrompts);
        var testPrompts = _task.TestPrompts(_config.TestPrompts);
        Log($"task {_task.Name}: {validationPrompts.Count} validation and {testPrompts.Count} test prompts (held out from training); tokenizer vocabulary {tokenizer.VocabSize}; " +
            $"{_config.Algorithms.Count} algorithm(s) × {_config.Seeds.Count} seed(s)");

        var results = new ArenaResults
        {
            Task = _task.Name,
            TaskDescription = _task.Description,
            Settings = _config.Describe(_task, tokenizer.VocabSize),
        };
        var demoRng = new DeterministicRandom(0xDE30_5EEDUL);
        double demoReward = testPrompts.Average(p => _task.Reward(p, _task.DemonstrationFor(p, demoRng)));
        double bestReward = testPrompts.Average(_task.BestReward);
        results.References.Add(new ReferenceValue { Name = "demonstrations", Value = demoReward });
        results.Settings["best achievable reward"] = Number(bestReward) + " (mean over the test prompts)";
        results.Settings["algorithms"] = string.Join("; ", _config.Algorithms.Select(a => $"{a.Name}: {a.Describe()}"));

        var seedRuns = new List<SeedRun>();
        foreach (ulong seed in _config.Seeds)
        {
            cancel.ThrowIfCancellationRequested();
            seedRuns.Add(RunSeed(root, seed, tokenizer, validationPrompts, testPrompts, results.Settings, cancel));
        }

        new ResultsAssembler(_config, _log).Assemble(results, seedRuns);
        results.Settings["wall time"] = string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds:F0} s");
        ReportWriter.Write(results, root);
        Log($"report: {Path.Combine(root, ReportWriter.ReportFileName)} ({clock.Elapsed.TotalSeconds:F0} s in all)");
        return results;
    }

    /// <summary>DRO-V (the default arm) against each KTO arm and SFT-on-positives of the main group.</summary>
    internal static List<(string A, string B)> HeadToHeadPairs(IReadOnlyList<AlgorithmSpec> algorithms)
    {
        var main = algorithms.Where(a => a.Group == AlgorithmSpec.MainGroup).ToList();
        var drov = main.FirstOrDefault(a => a.IsDroV && a.Tau == 1 && a.Value == "per-example" && a.LearningRate is null) ?? main.FirstOrDefault(a => a.IsDroV);
        if (drov is null) return [];
        return main.Where(a => a != drov && (a.IsKto || a.Objective == "sft-pos")).Select(a => (drov.Name, a.Name)).ToList();
    }

    // ---------------------------------------------------------------- one seed

    private SeedRun RunSeed(string root, ulong seed, Tokenizer tokenizer, IReadOnlyList<string> validationPrompts, IReadOnlyList<string> testPrompts,
        Dictionary<string, string> settings, CancellationToken cancel)
    {
        string dir = Path.Combine(root, $"seed-{seed}");
        Directory.CreateDirectory(dir);
        string tokenizerFile = Path.Combine(root, "tokenizer.json");

        // A fresh model, then SFT on demonstrations: π_ref.
        string init = Path.Combine(dir, "init");
        var modelConfig = _config.Model.ToConfig(new TokenizerIds(tokenizer.VocabSize, tokenizer.PadId, tokenizer.EosId, tokenizer.BosId));
        using (var fresh = ModelFamilies.ForModelType(modelConfig.ModelType, "the arena").CreatePolicy(modelConfig))
        {
            fresh.InitializeWeights(new DeterministicRandom(Mix(seed, 1)));
            fresh.Save(init);
            File.Copy(tokenizerFile, Path.Combine(init, "tokenizer.json"), overwrite: true);
            if (seed == _config.Seeds[0])
            {
                settings["parameters"] = fresh.Parameters.ElementCount.ToString("N0", CultureInfo.InvariantCulture) + " (policy)";
                Log($"model: {_config.Model}, {fresh.Parameters.ElementCount:N0} parameters");
            }
        }
        string sftData = Path.Combine(dir, "sft_data.jsonl");
        WriteJsonl(sftData, _task.Demonstrations(new DeterministicRandom(Mix(seed, 2)), _config.SftExamples)
            .Select(d => new Dictionary<string, object> { ["prompt"] = d.Prompt, ["completion"] = d.Completion }));
        var sw = Stopwatch.StartNew();
        string sftRun = Path.Combine(dir, "sft");
        var sftOptions = new TrainingOptions
        {
            Algo = "sft", Model = init, Data = sftData, Out = sftRun,
            LearningRate = _config.SftLearningRate, BatchSize = _config.SftBatchSize, MaxSteps = _config.SftSteps,
            WarmupSteps = _config.SftWarmupSteps, Schedule = "linear", Optimizer = "adamw", Seed = seed,
            LogEvery = Math.Max(1, _config.SftSteps / 5), SaveEvery = 0, SaveTotalLimit = 1,
            EvalFraction = null, MaxGradNorm = 1.0, WeightDecay = 0,
        };
        string sftKey = string.Join('\n', sftOptions.ToJson(), "init " + ModelDirectoryHash.Compute(init), "data " + FileHash(sftData));
        string sftKeyFile = Path.Combine(sftRun, "arena_key.txt");
        string refDir = Path.Combine(sftRun, "final");
        string sftSecondsFile = Path.Combine(sftRun, "arena_seconds.txt");
        double sftSeconds;
        if (_resume && File.Exists(sftKeyFile) && File.ReadAllText(sftKeyFile) == sftKey && Directory.Exists(refDir) && File.Exists(sftSecondsFile))
        {
            sftSeconds = double.Parse(File.ReadAllText(sftSecondsFile), CultureInfo.InvariantCulture);
            Log($"[seed {seed}] sft: reusing {refDir}");
        }
        else
        {
            if (Directory.Exists(sftRun)) Directory.Delete(sftRun, recursive: true);
            Train(sftOptions, tokenizer, null, cancel);
            DeleteCheckpoints(sftRun);
            sftSeconds = sw.Elapsed.TotalSeconds;
            AtomicFile.WriteAllText(sftSecondsFile, sftSeconds.ToString("R", CultureInfo.InvariantCulture));
            AtomicFile.WriteAllText(sftKeyFile, sftKey); // last: the marker of a finished SFT run
        }
        using var reference = ModelFamilies.LoadPolicy(refDir);
        string referenceHash = ModelDirectoryHash.Compute(refDir);

        // Samples of μ = π_ref on training prompts, with simulated feedback.
        sw.Restart();
        var feedback = CollectFeedback(dir, seed, reference, tokenizer);
        string feedbackSummary = $"{feedback.Rows} responses of μ, mean true reward {Number(feedback.MeanReward)}" +
            (feedback.UpFraction is double up ? string.Create(CultureInfo.InvariantCulture, $", {100 * up:F1}% {(_config.Feedback == FeedbackMode.Thumbs ? "thumbs up" : "above c")}") : "");
        Log($"[seed {seed}] feedback: {feedbackSummary} ({sw.Elapsed.TotalSeconds:F0} s)");
        settings["feedback per seed"] = (settings.TryGetValue("feedback per seed", out string? before) ? before + "; " : "") + $"seed {seed}: {feedbackSummary}";

        // π_ref on the validation and test prompts.
        int maxNew = _task.MaxCompletionTokens + 1;
        var validation = new PolicyEvaluator(_task, tokenizer, reference, validationPrompts, maxNew, _config.GenerationBatchSize);
        var test = new PolicyEvaluator(_task, tokenizer, reference, testPrompts, maxNew, _config.GenerationBatchSize);
        var seeds = new EvaluationSeeds(Mix(seed, 8), Mix(seed, 6));
        var run = new SeedRun
        {
            Seed = seed, Directory = dir, SftSeconds = sftSeconds,
            SftValidation = validation.Evaluate(reference, seeds.Validation, greedy: false),
            SftTest = test.Evaluate(reference, seeds.Test, greedy: true),
        };
        WriteEvaluation(Path.Combine(dir, "eval_sft.jsonl"), run.SftTest);
        Log($"[seed {seed}] sft (π_ref): {_config.SftSteps} steps in {sftSeconds:F0} s; test reward sampled {Number(run.SftTest.MeanSampleReward)}, greedy {Number(run.SftTest.MeanGreedyReward!.Value)}");

        if (_config.OptimumSamples > 0) EstimateOptimum(run, reference, tokenizer, test, feedback);

        foreach (var spec in _config.Algorithms)
        {
            cancel.ThrowIfCancellationRequested();
            run.Arms.Add(RunArm(run, spec, refDir, referenceHash, feedback, tokenizer, validation, test, seeds, cancel));
        }
        return run;
    }

    private readonly record struct EvaluationSeeds(ulong Validation, ulong Test);

    /// <summary>
    /// Trains one arm at every learning rate of its grid and evaluates every checkpoint; a run that diverges or cannot
    /// start is recorded, not thrown. With <c>resume</c>, a run whose <see cref="RunRecord"/> matches is not trained again.
    /// </summary>
    private ArmRun RunArm(SeedRun seedRun, AlgorithmSpec spec, string refDir, string referenceHash, FeedbackFiles feedback, Tokenizer tokenizer,
        PolicyEvaluator validation, PolicyEvaluator test, EvaluationSeeds seeds, CancellationToken cancel)
    {
        var arm = new ArmRun { Spec = spec };
        string data = spec.IsKto && spec.KtoLabel == "labels" ? feedback.LabelledPath : feedback.Path;
        // dro train's own defaults: one learning rate (the arm's, else the trainer's), and final/ is the step dro train selected.
        IReadOnlyList<double> learningRates = _config.TrainerDefaults
            ? [TrainerDefaultsArm.Options(_config, spec, refDir, data, seedRun.Directory, seedRun.Seed).LearningRate]
            : _config.LearningRatesFor(spec);
        foreach (double lr in learningRates)
        {
            cancel.ThrowIfCancellationRequested();
            string runDir = Path.Combine(seedRun.Directory, "runs", RunDirectoryName(spec.Name), LearningRateDirectoryName(lr));
            arm.RunDirectories[lr] = runDir;
            var options = _config.TrainerDefaults ? TrainerDefaultsArm.Options(_config, spec, refDir, data, runDir, seedRun.Seed) : new TrainingOptions
            {
                Algo = spec.Objective, Model = refDir, Ref = refDir,
                Data = data,
                Out = runDir,
                Tau = spec.Tau, Beta = spec.Beta, Value = spec.IsDroV ? spec.Value : "per-example", KtoLabel = spec.IsKto ? spec.KtoLabel : "labels",
                LearningRate = lr, ValueLearningRate = null, BatchSize = _config.BatchSize, MaxSteps = _config.Steps,
                WarmupSteps = _config.WarmupSteps, Schedule = _config.Schedule, Optimizer = _config.Optimizer, Seed = seedRun.Seed,
                LogEvery = _config.CheckpointEvery > 0 ? _config.CheckpointEvery : Math.Max(1, _config.Steps / 10),
                SaveEvery = _config.CheckpointEvery, SaveTotalLimit = 0,
                EvalFraction = null, MaxGradNorm = 1.0, WeightDecay = 0, NormalizeRewards = true, UpReward = 1.0, DownReward = 0.0,
            };
            string key = string.Join('\n', options.ToJson(), "reference " + referenceHash, "feedback " + feedback.Hash,
                string.Create(CultureInfo.InvariantCulture, $"validation {validation.Prompts.Count} seed {seeds.Validation}; test {test.Prompts.Count} seed {seeds.Test}; generation batch {_config.GenerationBatchSize}"));
            var record = _resume ? RunRecord.LoadIfCurrent(runDir, key) : null;
            if (record is null)
            {
                if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true); // a run interrupted before its record: start it again
                record = TrainAndEvaluate(seedRun, spec, lr, options, key, tokenizer, validation, test, seeds, cancel);
            }
            else
            {
                Log(string.Create(CultureInfo.InvariantCulture, $"[seed {seedRun.Seed}] {spec.Name} LR {SelectionReport.Lr(lr)}: reusing {Path.Combine(runDir, RunRecord.FileName)}"));
            }

            arm.TrainSeconds[lr] = record.TrainSeconds;
            arm.Losses[lr] = record.Losses;
            arm.Failures.AddRange(record.Failures);
            string source = Path.Combine(runDir, RunRecord.FileName);
            foreach (var c in record.Checkpoints)
            {
                var v = c.Validation.ToEvaluation(validation.Prompts, source);
                double win = ArenaStatistics.WinRate(v.SampleRewards, seedRun.SftValidation.SampleRewards).Rate;
                arm.Candidates[new CandidateKey(lr, c.Step)] = new CandidateEvaluation(v, win, c.Test.ToEvaluation(test.Prompts, source));
            }
            string summary = string.Concat(arm.Candidates.Where(kv => kv.Key.LearningRate == lr).Select(kv => string.Create(CultureInfo.InvariantCulture, $" {kv.Key.Step}:{100 * kv.Value.ValidationWinRate:F1}%")));
            Log(string.Create(CultureInfo.InvariantCulture,
                $"[seed {seedRun.Seed}] {spec.Name} LR {SelectionReport.Lr(lr)}: {record.CompletedSteps} steps in {record.TrainSeconds:F0} s; validation win rate vs sft by step:{summary}"));
        }
        return arm;
    }

    /// <summary>One run of an arm: trains (a failure is recorded), evaluates every checkpoint, writes and returns its <see cref="RunRecord"/>.</summary>
    private RunRecord TrainAndEvaluate(SeedRun seedRun, AlgorithmSpec spec, double lr, TrainingOptions options, string key, Tokenizer tokenizer,
        PolicyEvaluator validation, PolicyEvaluator test, EvaluationSeeds seeds, CancellationToken cancel)
    {
        var record = new RunRecord { Key = key };
        var sw = Stopwatch.StartNew();
        long completed = 0;
        long? selectedStep = null;
        try
        {
            selectedStep = Train(options, tokenizer, step => completed = step, cancel).SelectedStep;
        }
        catch (TrainingException e)
        {
            // A divergence (after the first step began) or a run that could not start (e.g. no thumbs-up rows for SFT
            // on positives): recorded, and the experiment goes on.
            bool diverged = e.Data.Contains(TrainingStartedKey);
            var failure = new RunFailure { Seed = seedRun.Seed, LearningRate = lr, Step = diverged ? (int)completed + 1 : 0, Diverged = diverged, Message = e.Message };
            record.Failures.Add(failure);
            Log(string.Create(CultureInfo.InvariantCulture,
                $"[seed {seedRun.Seed}] {spec.Name} (LR {SelectionReport.Lr(lr)}) {(diverged ? $"DIVERGED at step {failure.Step}" : "COULD NOT START")}: {e.Message} — the experiment goes on"));
        }
        record.TrainSeconds = sw.Elapsed.TotalSeconds;
        record.CompletedSteps = completed;
        var run = new RunDirectory(options.Out);
        record.Losses = ReadLosses(run.MetricsFile);

        foreach (var (step, checkpoint) in run.Checkpoints())
        {
            cancel.ThrowIfCancellationRequested();
            using var policy = ModelFamilies.LoadPolicy(Path.Combine(checkpoint, "policy"));
            var v = validation.Evaluate(policy, seeds.Validation, greedy: false, logRatios: false);
            var t = test.Evaluate(policy, seeds.Test, greedy: true);
            if (!t.LogRatios.All(double.IsFinite))
            {
                record.Failures.Add(new RunFailure { Seed = seedRun.Seed, LearningRate = lr, Step = (int)step, Diverged = true, Message = "a log-ratio of the policy's test samples to π_ref is not finite" });
                Log(string.Create(CultureInfo.InvariantCulture, $"[seed {seedRun.Seed}] {spec.Name} (LR {SelectionReport.Lr(lr)}) step {step}: not finite on the test prompts; left out of selection"));
                continue;
            }
            record.Checkpoints.Add(new RunRecord.Checkpoint { Step = (int)step, Validation = RunRecord.Evaluation.From(v), Test = RunRecord.Evaluation.From(t) });
        }
        // Trained as dro train would: the candidate is the step final/ holds (dro train's selection on its own held-out split).
        if (_config.TrainerDefaults && selectedStep is long finalStep)
        {
            record.Checkpoints.RemoveAll(c => c.Step != finalStep);
            Log(string.Create(CultureInfo.InvariantCulture, $"[seed {seedRun.Seed}] {spec.Name}: final/ = step {finalStep} (dro train's selection)"));
        }
        if (!_config.KeepCheckpoints) DeleteCheckpoints(options.Out);
        Directory.CreateDirectory(options.Out);
        record.Save(options.Out);
        return record;
    }

    /// <summary>
    /// π* ∝ π_ref·e^{ρ/τ} for each τ of the DRO-V arms, on the test prompts: <see cref="ExperimentConfig.OptimumSamples"/>
    /// samples of π_ref per prompt, ρ = the rater's expected rating (thumbs: σ((r − c)/s); scores: r), z-normalised with
    /// the mean and population standard deviation of the feedback ratings, as the trainer normalises them.
    /// </summary>
    private void EstimateOptimum(SeedRun run, IPolicyModel reference, Tokenizer tokenizer, PolicyEvaluator test, FeedbackFiles feedback)
    {
        var taus = _config.Algorithms.Where(a => a.IsDroV).Select(a => a.Tau).Distinct().Order().ToList();
        if (taus.Count == 0) return;
        int k = _config.OptimumSamples;
        var prompts = test.Prompts.SelectMany(p => Enumerable.Repeat(p, k)).ToList();
        var sampler = new PolicyEvaluator(_task, tokenizer, reference, prompts, _task.MaxCompletionTokens + 1, _config.GenerationBatchSize);
        var ids = sampler.Generate(reference, new GenerationOptions { Greedy = false, Temperature = 1f, MaxNewTokens = _task.MaxCompletionTokens + 1 }, Mix(run.Seed, 9));
        var normalizer = RewardNormalizer.Fit(feedback.Ratings);
        var threshold = _config.Threshold(_task);
        var rewards = new List<IReadOnlyList<double>>(test.Prompts.Count);
        var ratings = new List<IReadOnlyList<double>>(test.Prompts.Count);
        for (int p = 0; p < test.Prompts.Count; p++)
        {
            var r = new double[k];
            var rho = new double[k];
            for (int i = 0; i < k; i++)
            {
                r[i] = _task.Reward(test.Prompts[p], tokenizer.Decode(ids[p * k + i], skipSpecialTokens: true));
                double expected = _config.Feedback == FeedbackMode.Thumbs ? Feedback.ThumbsUpProbability(r[i], threshold) : r[i];
                rho[i] = normalizer.Normalize(expected);
            }
            rewards.Add(r);
            ratings.Add(rho);
        }
        foreach (double tau in taus)
        {
            var estimate = KlRegularisedOptimum.Estimate(ratings, rewards, tau);
            estimate.Seed = run.Seed;
            run.Optimum.Add(estimate);
            Log(string.Create(CultureInfo.InvariantCulture,
                $"[seed {run.Seed}] π* at τ = {tau:G3}: expected reward {estimate.ExpectedReward:0.000} (± {estimate.StandardError:0.000}), KL {estimate.Kl:0.000}, " +
                $"effective sample size {estimate.MeanEffectiveSampleSize:F1} of {k} (min {estimate.MinEffectiveSampleSize:F1}); π_ref on the same samples {estimate.ReferenceReward:0.000}"));
        }
    }

    // ---------------------------------------------------------------- pieces

    /// <summary>
    /// Word-level tokenizer over the task's vocabulary and a sample of demonstrations, with the model family's
    /// conventions (T5: &lt;/s&gt; after every text; Llama: &lt;s&gt; before every text, EOS added after completions by
    /// the trainer's encoder); every seed shares it.
    /// </summary>
    private Tokenizer TrainTokenizer(string root)
    {
        var corpus = _task.Corpus(new DeterministicRandom(0x70CE_5EEDUL), 200);
        var conventions = _config.Model.IsDecoderOnly ? TokenizerConventions.Decoder : TokenizerConventions.T5;
        var tokenizer = TokenizerTrainer.TrainWordLevel(corpus, vocabSize: _task.Vocabulary.Count + 64, minFrequency: 1, conventions: conventions);
        foreach (string word in _task.Vocabulary)
            if (tokenizer.TokenToId(word) is null) throw new InvalidOperationException($"task '{_task.Name}': word '{word}' did not get a token");
        tokenizer.Save(Path.Combine(root, "tokenizer.json"));
        return Tokenizer.FromFile(Path.Combine(root, "tokenizer.json"));
    }

    /// <summary>The feedback files (and a hash of their contents), and the ratings the trainer normalises (thumbs: 1 up, 0 down; scores: r), row by row.</summary>
    private sealed record FeedbackFiles(string Path, string LabelledPath, int Rows, double MeanReward, double? UpFraction, double[] Ratings)
    {
        public string Hash { get; } = FileHash(Path) + (LabelledPath == Path ? "" : " " + FileHash(LabelledPath));
    }

    /// <summary>SHA-256 (hex) of a file's bytes.</summary>
    private static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>
    /// <see cref="ExperimentConfig.ResponsesPerPrompt"/> samples of μ = π_ref for each training prompt, written with
    /// their token ids (used verbatim by the trainer), the simulated feedback (label or reward) and the true reward
    /// (<c>true_reward</c>, ignored by the trainer). With score feedback, a second file labels each response by the
    /// rater threshold, r &gt; c, for the arms that need thumbs (KTO with TRL's labels).
    /// </summary>
    private FeedbackFiles CollectFeedback(string dir, ulong seed, IPolicyModel reference, Tokenizer tokenizer)
    {
        var prompts = _task.SamplePrompts(new DeterministicRandom(Mix(seed, 3)), _config.FeedbackPrompts)
            .SelectMany(p => Enumerable.Repeat(p, _config.ResponsesPerPrompt)).ToList();
        var sampler = new PolicyEvaluator(_task, tokenizer, reference, prompts, _task.MaxCompletionTokens + 1, _config.GenerationBatchSize);
        var ids = sampler.Generate(reference, new GenerationOptions { Greedy = false, Temperature = 1f, MaxNewTokens = _task.MaxCompletionTokens + 1 }, Mix(seed, 4));
        var threshold = _config.Threshold(_task);
        var rater = new DeterministicRandom(Mix(seed, 5));
        var rows = new List<Dictionary<string, object>>(prompts.Count);
        var labelled = new List<Dictionary<string, object>>(prompts.Count);
        double rewardSum = 0;
        int up = 0;
        var ratings = new double[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
        {
            string text = tokenizer.Decode(ids[i], skipSpecialTokens: true);
            double r = _task.Reward(prompts[i], text);
            rewardSum += r;
            var row = new Dictionary<string, object>
            {
                ["prompt"] = prompts[i],
                ["prompt_ids"] = tokenizer.EncodeIds(prompts[i], addSpecialTokens: true),
                ["completion_ids"] = ids[i],
                ["completion_text"] = text,
            };
            bool thumb;
            if (_config.Feedback == FeedbackMode.Thumbs)
            {
                thumb = Feedback.ThumbsFeedback(r, threshold, rater);
                row["label"] = thumb;
            }
            else
            {
                thumb = r > threshold.Center;
                row["reward"] = r;
                labelled.Add(new Dictionary<string, object>(row.Where(kv => kv.Key != "reward")) { ["label"] = thumb, ["true_reward"] = r });
            }
            if (thumb) up++;
            ratings[i] = _config.Feedback == FeedbackMode.Thumbs ? (thumb ? 1.0 : 0.0) : r;
            row["true_reward"] = r;
            rows.Add(row);
        }
        string path = Path.Combine(dir, "feedback.jsonl");
        WriteJsonl(path, rows);
        string labelledPath = path;
        if (_config.Feedback == FeedbackMode.Score)
        {
            labelledPath = Path.Combine(dir, "feedback_labels.jsonl");
            WriteJsonl(labelledPath, labelled);
        }
        return new FeedbackFiles(path, labelledPath, rows.Count, rewardSum / rows.Count, (double)up / rows.Count, ratings);
    }

    /// <summary>Set in <see cref="Exception.Data"/> of a <see cref="TrainingException"/> thrown after the first training step began (a divergence, not a set-up error).</summary>
    private const string TrainingStartedKey = "drosharp.arena.training-started";

    /// <summary>
    /// One trainer run; <paramref name="stepCompleted"/> hears every completed step. Text is encoded as the model's
    /// family expects (<see cref="TokenizerTextEncoder"/>: a decoder's completion ends with EOS).
    /// </summary>
    private static TrainingResult Train(TrainingOptions options, Tokenizer tokenizer, Action<long>? stepCompleted, CancellationToken cancel)
    {
        Directory.CreateDirectory(options.Out);
        using var log = new StreamWriter(Path.Combine(options.Out, "train.log"), append: false);
        using var trainer = new AlignmentTrainer(options, policy => new TokenizerTextEncoder(tokenizer, policy.Tokens), log);
        bool started = false;
        trainer.StepStarting += _ => started = true;
        if (stepCompleted is not null) trainer.StepCompleted += stepCompleted;
        TrainingResult result;
        try
        {
            result = trainer.Train(resume: false, cancel);
        }
        catch (TrainingException e) when (started)
        {
            e.Data[TrainingStartedKey] = true;
            throw;
        }
        if (result.Interrupted) throw new OperationCanceledException($"training of {options.Out} was interrupted at step {result.Steps}", cancel);
        return result;
    }

    /// <summary>The training loss logged at each step of metrics.jsonl (the mean since the previous logging step).</summary>
    private static Dictionary<long, double> ReadLosses(string metricsFile)
    {
        var losses = new Dictionary<long, double>();
        if (!File.Exists(metricsFile)) return losses;
        foreach (string line in File.ReadLines(metricsFile))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty("loss", out var loss) && loss.ValueKind == JsonValueKind.Number
                && doc.RootElement.TryGetProperty("step", out var step))
                losses[step.GetInt64()] = loss.GetDouble();
        }
        return losses;
    }

    private static void DeleteCheckpoints(string runDir)
    {
        string checkpoints = new RunDirectory(runDir).CheckpointsDirectory;
        if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
    }

    private void PrepareOutputDirectory(string root, bool overwrite)
    {
        if (File.Exists(root)) throw new IOException($"{root} is a file, not a directory");
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            if (!overwrite) throw new IOException($"{root} is not empty; choose another output directory (or overwrite it)");
            // Only what this pipeline writes: seed directories, the tokenizer and the report.
            foreach (string d in Directory.GetDirectories(root, "seed-*")) Directory.Delete(d, recursive: true);
            foreach (string f in Directory.GetFiles(root).Where(f => Path.GetFileName(f) is "tokenizer.json" or ResultsJson.FileName or ReportWriter.ReportFileName || f.EndsWith(".svg", StringComparison.Ordinal)))
                File.Delete(f);
        }
        Directory.CreateDirectory(root);
    }

    internal static void WriteEvaluation(string path, PolicyEvaluation e)
    {
        WriteJsonl(path, Enumerable.Range(0, e.Prompts.Count).Select(i =>
        {
            var row = new Dictionary<string, object> { ["prompt"] = e.Prompts[i], ["sample"] = e.Samples[i], ["sample_reward"] = e.SampleRewards[i] };
            if (double.IsFinite(e.LogRatios[i])) row["log_ratio"] = e.LogRatios[i];
            if (e.Greedy is not null) { row["greedy"] = e.Greedy[i]; row["greedy_reward"] = e.GreedyRewards![i]; }
            return row;
        }));
    }

    private static void WriteJsonl(string path, IEnumerable<Dictionary<string, object>> rows)
    {
        var sb = new StringBuilder();
        foreach (var row in rows) sb.Append(JsonSerializer.Serialize(row)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>A seed for one use (<paramref name="purpose"/>) of an experiment seed: SplitMix64 of both.</summary>
    internal static ulong Mix(ulong seed, ulong purpose)
    {
        ulong x = seed * 0x9E3779B97F4A7C15UL ^ purpose * 0xD1B54A32D192ED03UL;
        return DeterministicRandom.SplitMix64(ref x);
    }

    private void Log(string message)
    {
        _log.WriteLine(message);
        _log.Flush();
    }

    private static string Number(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
}
