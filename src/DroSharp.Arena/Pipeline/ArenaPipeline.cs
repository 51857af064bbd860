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
///   DIR/seed-S/init/                            a fresh T5 (HF directory)
///   DIR/seed-S/sft_data.jsonl, sft/             SFT on demonstrations; sft/final is π_ref (= μ)
///   DIR/seed-S/feedback.jsonl                   samples of μ with simulated feedback (and their true reward)
///   DIR/seed-S/runs/NAME/                       one trainer run per algorithm (run.json, metrics.jsonl, final/, eval.jsonl)
///   DIR/seed-S/eval_sft.jsonl                   π_ref's evaluation
///   DIR/results.json, DIR/report.md, DIR/*.svg  the report
///
/// Everything is seeded: a run is bit-identical when repeated with the same configuration (timings aside).
/// </summary>
public sealed class ArenaPipeline
{
    /// <summary>Report name of the SFT policy π_ref, the baseline of every win rate.</summary>
    public const string SftName = "sft";

    private readonly ExperimentConfig _config;
    private readonly TextWriter _log;
    private readonly ArenaTask _task;

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

    /// <summary>Directory of one algorithm's run under a seed directory (names may hold ':' and '=').</summary>
    public static string RunDirectoryName(string algorithm) => algorithm.Replace(':', '_').Replace('=', '-');

    /// <summary>
    /// Runs every seed and writes the report. <paramref name="overwrite"/> first deletes what an earlier run of
    /// the pipeline wrote into the output directory; otherwise the directory must be empty or absent.
    /// </summary>
    public ArenaResults Run(bool overwrite = false, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        string root = Path.GetFullPath(_config.OutputDirectory);
        PrepareOutputDirectory(root, overwrite);

        var tokenizer = TrainTokenizer(root);
        var evalPrompts = _task.EvalPrompts(_config.EvalPrompts);
        Log($"task {_task.Name}: {evalPrompts.Count} held-out evaluation prompts; tokenizer vocabulary {tokenizer.VocabSize}; " +
            $"{_config.Algorithms.Count} algorithm(s) × {_config.Seeds.Count} seed(s)");

        var results = new ArenaResults
        {
            Task = _task.Name,
            TaskDescription = _task.Description,
            Settings = _config.Describe(_task, tokenizer.VocabSize),
        };
        var demoRng = new DeterministicRandom(0xDE30_5EEDUL);
        double demoReward = evalPrompts.Average(p => _task.Reward(p, _task.DemonstrationFor(p, demoRng)));
        double bestReward = evalPrompts.Average(_task.BestReward);
        results.References.Add(new ReferenceValue { Name = "demonstrations", Value = demoReward });
        results.Settings["best achievable reward"] = Number(bestReward) + " (mean over the evaluation prompts)";
        results.Settings["algorithms"] = string.Join("; ", _config.Algorithms.Select(a => $"{a.Name}: {a.Describe()}"));

        var sft = new AlgorithmResult { Name = SftName, Description = "the SFT policy π_ref (also the behaviour policy μ)", Group = AlgorithmSpec.MainGroup };
        results.Algorithms.Add(sft);
        var arms = _config.Algorithms.Select(a => new AlgorithmResult
        {
            Name = a.Name, Description = a.Describe(), Objective = a.Objective, Regularisation = a.Regularisation,
            Value = a.IsDroV ? a.Value : null, KtoLabel = a.IsKto ? a.KtoLabel : null, LearningRate = a.LearningRate, Group = a.Group,
        }).ToList();
        results.Algorithms.AddRange(arms);
        var pairs = HeadToHeadPairs(_config.Algorithms);
        var h2h = pairs.Select(p => new HeadToHeadResult { A = p.A, B = p.B }).ToList();
        results.HeadToHead.AddRange(h2h);

        var evaluationsBySeed = new List<(ulong Seed, Dictionary<string, PolicyEvaluation> Evaluations)>();
        foreach (ulong seed in _config.Seeds)
        {
            cancel.ThrowIfCancellationRequested();
            var seedRun = RunSeed(root, seed, tokenizer, evalPrompts, cancel);
            evaluationsBySeed.Add((seed, seedRun.Evaluations));
            sft.Seeds.Add(seedRun.Sft);
            for (int i = 0; i < arms.Count; i++) arms[i].Seeds.Add(seedRun.Arms[i]);
            for (int i = 0; i < pairs.Count; i++)
            {
                var w = ArenaStatistics.WinRate(seedRun.Evaluations[pairs[i].A].SampleRewards, seedRun.Evaluations[pairs[i].B].SampleRewards);
                h2h[i].Seeds.Add(new HeadToHeadSeed { Seed = seed, WinRate = w.Rate, StandardError = w.StandardError, Wins = w.Wins, Ties = w.Ties, Losses = w.Losses });
            }
            if (seed == _config.Seeds[0]) AddSamples(results, seedRun.Evaluations);
            SummarizeSeed(seed, seedRun, pairs);
        }

        if (BestStrengthPair(results) is var (bestA, bestB) && !pairs.Contains((bestA, bestB)))
        {
            var best = new HeadToHeadResult { A = bestA, B = bestB };
            foreach (var (seed, e) in evaluationsBySeed)
            {
                var w = ArenaStatistics.WinRate(e[bestA].SampleRewards, e[bestB].SampleRewards);
                best.Seeds.Add(new HeadToHeadSeed { Seed = seed, WinRate = w.Rate, StandardError = w.StandardError, Wins = w.Wins, Ties = w.Ties, Losses = w.Losses });
            }
            results.HeadToHead.Add(best);
            Log(string.Create(CultureInfo.InvariantCulture, $"best strengths: {bestA} vs {bestB}: {100 * best.Seeds.Average(s => s.WinRate):F1}% (mean over seeds)"));
        }

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

    /// <summary>
    /// With a τ or β sweep: DRO-V (per-example value) at its best τ against the paper's KTO (batch-mean labels)
    /// at its best β, "best" meaning the highest mean win rate against SFT over seeds. Both are picked on the
    /// evaluation prompts themselves, so the comparison is equally optimistic for both; null without a sweep.
    /// </summary>
    internal static (string A, string B)? BestStrengthPair(ArenaResults results)
    {
        if (!results.Algorithms.Any(a => a.Group == AlgorithmSpec.SweepGroup)) return null;
        static double MeanWin(AlgorithmResult a) => a.Seeds.Select(s => s.Final.WinRateVsSft ?? double.NaN).DefaultIfEmpty(double.NaN).Average();
        AlgorithmResult? Best(Func<AlgorithmResult, bool> family) => results.Algorithms
            .Where(a => a.LearningRate is null && a.Group is AlgorithmSpec.MainGroup or AlgorithmSpec.SweepGroup && family(a) && double.IsFinite(MeanWin(a)))
            .OrderByDescending(MeanWin).FirstOrDefault();
        var dro = Best(a => a.Objective == "dro-v" && a.Value is null or "per-example");
        var kto = Best(a => a.Objective == "kto" && a.KtoLabel == "batch-mean");
        return dro is null || kto is null ? null : (dro.Name, kto.Name);
    }

    // ---------------------------------------------------------------- one seed

    private sealed record SeedRun(SeedResult Sft, List<SeedResult> Arms, Dictionary<string, PolicyEvaluation> Evaluations);

    private SeedRun RunSeed(string root, ulong seed, Tokenizer tokenizer, IReadOnlyList<string> evalPrompts, CancellationToken cancel)
    {
        string dir = Path.Combine(root, $"seed-{seed}");
        Directory.CreateDirectory(dir);
        string tokenizerFile = Path.Combine(root, "tokenizer.json");

        // A fresh model, then SFT on demonstrations: π_ref.
        string init = Path.Combine(dir, "init");
        var modelConfig = _config.Model.ToConfig(tokenizer.VocabSize, tokenizer.PadId ?? 0, tokenizer.EosId ?? 1);
        using (var fresh = ModelFamilies.ForModelType(modelConfig.ModelType, "the arena").CreatePolicy(modelConfig))
        {
            fresh.InitializeWeights(new DeterministicRandom(Mix(seed, 1)));
            fresh.Save(init);
            File.Copy(tokenizerFile, Path.Combine(init, "tokenizer.json"), overwrite: true);
            if (seed == _config.Seeds[0]) Log($"model: {_config.Model}, {fresh.Parameters.ElementCount:N0} parameters");
        }
        string sftData = Path.Combine(dir, "sft_data.jsonl");
        WriteJsonl(sftData, _task.Demonstrations(new DeterministicRandom(Mix(seed, 2)), _config.SftExamples)
            .Select(d => new Dictionary<string, object> { ["prompt"] = d.Prompt, ["completion"] = d.Completion }));
        var sw = Stopwatch.StartNew();
        string sftRun = Path.Combine(dir, "sft");
        Train(new TrainingOptions
        {
            Algo = "sft", Model = init, Data = sftData, Out = sftRun,
            LearningRate = _config.SftLearningRate, BatchSize = _config.SftBatchSize, MaxSteps = _config.SftSteps,
            WarmupSteps = _config.SftWarmupSteps, Schedule = "linear", Optimizer = "adamw", Seed = seed,
            LogEvery = Math.Max(1, _config.SftSteps / 5), SaveEvery = 0, SaveTotalLimit = 1,
        }, tokenizer, cancel);
        DeleteCheckpoints(sftRun);
        string refDir = Path.Combine(sftRun, "final");
        using var reference = ModelFamilies.LoadPolicy(refDir);
        double sftSeconds = sw.Elapsed.TotalSeconds;

        // Samples of μ = π_ref on training prompts, with simulated feedback.
        sw.Restart();
        var feedback = CollectFeedback(dir, seed, reference, tokenizer);
        Log($"[seed {seed}] feedback: {feedback.Rows} responses of μ, mean true reward {Number(feedback.MeanReward)}" +
            (feedback.UpFraction is double up ? $", {100 * up:F1}% thumbs up" : "") + $" ({sw.Elapsed.TotalSeconds:F0} s)");

        // π_ref on the evaluation and curve prompts.
        var evaluator = new PolicyEvaluator(_task, tokenizer, reference, evalPrompts, _task.MaxCompletionTokens + 1, _config.GenerationBatchSize);
        var curveEvaluator = new PolicyEvaluator(_task, tokenizer, reference, evalPrompts.Take(_config.CurvePrompts).ToList(), _task.MaxCompletionTokens + 1, _config.GenerationBatchSize);
        ulong evalSeed = Mix(seed, 6), curveSeed = Mix(seed, 7);
        var sftEval = evaluator.Evaluate(reference, evalSeed, greedy: true);
        var sftCurve = _config.CurveEvery > 0 ? curveEvaluator.Evaluate(reference, curveSeed, greedy: true) : null;
        WriteEvaluation(Path.Combine(dir, "eval_sft.jsonl"), sftEval);
        var sftResult = new SeedResult
        {
            Seed = seed,
            Final = new EvalMetrics { SampledReward = sftEval.MeanSampleReward, GreedyReward = sftEval.MeanGreedyReward, Kl = 0, Prompts = evalPrompts.Count },
            TrainSeconds = sftSeconds,
        };
        Log($"[seed {seed}] sft (π_ref): {_config.SftSteps} steps in {sftSeconds:F0} s; reward sampled {Number(sftEval.MeanSampleReward)}, greedy {Number(sftEval.MeanGreedyReward!.Value)}");

        var evaluations = new Dictionary<string, PolicyEvaluation>(StringComparer.Ordinal) { [SftName] = sftEval };
        var arms = new List<SeedResult>();
        foreach (var spec in _config.Algorithms)
        {
            cancel.ThrowIfCancellationRequested();
            var (result, evaluation) = RunArm(dir, seed, spec, refDir, feedback, tokenizer, evaluator, curveEvaluator, sftEval, sftCurve, evalSeed, curveSeed, cancel);
            arms.Add(result);
            evaluations[spec.Name] = evaluation;
        }
        return new SeedRun(sftResult, arms, evaluations);
    }

    private (SeedResult, PolicyEvaluation) RunArm(string seedDir, ulong seed, AlgorithmSpec spec, string refDir, FeedbackFiles feedback, Tokenizer tokenizer,
        PolicyEvaluator evaluator, PolicyEvaluator curveEvaluator, PolicyEvaluation sftEval, PolicyEvaluation? sftCurve, ulong evalSeed, ulong curveSeed, CancellationToken cancel)
    {
        string runDir = Path.Combine(seedDir, "runs", RunDirectoryName(spec.Name));
        var data = spec.IsKto && spec.KtoLabel == "labels" ? feedback.LabelledPath : feedback.Path;
        var options = _config.TrainerDefaults ? TrainerDefaultsArm.Options(_config, spec, refDir, data, runDir, seed) : new TrainingOptions
        {
            Algo = spec.Objective, Model = refDir, Ref = refDir,
            Data = data,
            Out = runDir,
            Tau = spec.Tau, Beta = spec.Beta, Value = spec.IsDroV ? spec.Value : "per-example", KtoLabel = spec.IsKto ? spec.KtoLabel : "labels",
            LearningRate = spec.LearningRate ?? _config.LearningRate, BatchSize = _config.BatchSize, MaxSteps = _config.Steps,
            WarmupSteps = _config.WarmupSteps, Schedule = _config.Schedule, Optimizer = _config.Optimizer, Seed = seed,
            LogEvery = _config.CurveEvery > 0 ? _config.CurveEvery : Math.Max(1, _config.Steps / 10),
            SaveEvery = _config.CurveEvery, SaveTotalLimit = 0,
        };
        var sw = Stopwatch.StartNew();
        try
        {
            Train(options, tokenizer, cancel);
        }
        catch (TrainingException e)
        {
            throw new TrainingException($"{spec.Name} (seed {seed}): {e.Message}", e);
        }
        double trainSeconds = sw.Elapsed.TotalSeconds;

        var run = new RunDirectory(runDir);
        var result = new SeedResult { Seed = seed, TrainSeconds = trainSeconds, FinalStep = FinalStep(runDir) };
        if (sftCurve is not null)
        {
            var losses = ReadLosses(run.MetricsFile);
            result.Curve.Add(new CurvePoint
            {
                Step = 0, SampledReward = sftCurve.MeanSampleReward, GreedyReward = sftCurve.MeanGreedyReward, WinRateVsSft = 0.5, Kl = 0,
            });
            foreach (var (step, checkpoint) in run.Checkpoints())
            {
                using var policy = ModelFamilies.LoadPolicy(Path.Combine(checkpoint, "policy"));
                var e = curveEvaluator.Evaluate(policy, curveSeed, greedy: true);
                result.Curve.Add(new CurvePoint
                {
                    Step = (int)step,
                    SampledReward = e.MeanSampleReward,
                    GreedyReward = e.MeanGreedyReward,
                    WinRateVsSft = ArenaStatistics.WinRate(e.SampleRewards, sftCurve.SampleRewards).Rate,
                    Kl = e.LogRatios.Average(),
                    Loss = losses.TryGetValue(step, out double loss) ? loss : null,
                });
            }
        }
        if (!_config.KeepCheckpoints) DeleteCheckpoints(runDir);

        PolicyEvaluation evaluation;
        using (var policy = ModelFamilies.LoadPolicy(run.FinalDirectory))
            evaluation = evaluator.Evaluate(policy, evalSeed, greedy: true);
        WriteEvaluation(Path.Combine(runDir, "eval.jsonl"), evaluation);
        var win = ArenaStatistics.WinRate(evaluation.SampleRewards, sftEval.SampleRewards);
        var kl = ArenaStatistics.KlFromLogRatios(evaluation.LogRatios);
        result.Final = new EvalMetrics
        {
            SampledReward = evaluation.MeanSampleReward,
            GreedyReward = evaluation.MeanGreedyReward,
            WinRateVsSft = win.Rate,
            WinRateStandardError = win.StandardError,
            Kl = kl.Kl,
            KlStandardError = kl.StandardError,
            Prompts = evaluation.Prompts.Count,
        };
        Log(string.Create(CultureInfo.InvariantCulture,
            $"[seed {seed}] {spec.Name}: {(_config.TrainerDefaults ? "trained" : $"{_config.Steps} steps")} in {trainSeconds:F0} s{(result.FinalStep is long fs ? $" (final/ = step {fs})" : "")}; reward sampled {Number(evaluation.MeanSampleReward)}, greedy {Number(evaluation.MeanGreedyReward!.Value)}; " +
            $"win vs sft {100 * win.Rate:F1}% (±{100 * win.StandardError:F1}); KL {Number(kl.Kl)} ({sw.Elapsed.TotalSeconds:F0} s with evaluation)"));
        return (result, evaluation);
    }

    // ---------------------------------------------------------------- pieces

    /// <summary>Word-level tokenizer over the task's vocabulary and a sample of demonstrations; every seed shares it.</summary>
    private Tokenizer TrainTokenizer(string root)
    {
        var corpus = _task.Corpus(new DeterministicRandom(0x70CE_5EEDUL), 200);
        var tokenizer = TokenizerTrainer.TrainWordLevel(corpus, vocabSize: _task.Vocabulary.Count + 64, minFrequency: 1);
        foreach (string word in _task.Vocabulary)
            if (tokenizer.TokenToId(word) is null) throw new InvalidOperationException($"task '{_task.Name}': word '{word}' did not get a token");
        tokenizer.Save(Path.Combine(root, "tokenizer.json"));
        return Tokenizer.FromFile(Path.Combine(root, "tokenizer.json"));
    }

    private sealed record FeedbackFiles(string Path, string LabelledPath, int Rows, double MeanReward, double? UpFraction);

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
        return new FeedbackFiles(path, labelledPath, rows.Count, rewardSum / rows.Count, (double)up / rows.Count);
    }

    private static void Train(TrainingOptions options, Tokenizer tokenizer, CancellationToken cancel)
    {
        Directory.CreateDirectory(options.Out);
        using var log = new StreamWriter(Path.Combine(options.Out, "train.log"), append: false);
        using var trainer = new AlignmentTrainer(options, ITextEncoder.From(t => tokenizer.EncodeIds(t, addSpecialTokens: true)), log);
        var result = trainer.Train(resume: false, cancel);
        if (result.Interrupted) throw new OperationCanceledException($"training of {options.Out} was interrupted at step {result.Steps}", cancel);
    }

    /// <summary>The step final/ holds (the run's selection.json), or null when the run had no held-out evaluation to select by.</summary>
    private static long? FinalStep(string runDir)
    {
        string path = Path.Combine(runDir, "selection.json");
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        bool selected = root.TryGetProperty("evaluations", out var e) && e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0;
        return selected && root.TryGetProperty("final_step", out var s) && s.TryGetInt64(out long step) ? step : null;
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

    private void AddSamples(ArenaResults results, Dictionary<string, PolicyEvaluation> evaluations)
    {
        foreach (var (name, e) in evaluations)
        {
            var spec = _config.Algorithms.FirstOrDefault(a => a.Name == name);
            if (spec is not null && spec.Group != AlgorithmSpec.MainGroup) continue;
            for (int i = 0; i < Math.Min(_config.SampleCount, e.Prompts.Count); i++)
                results.Samples.Add(new SampleCompletion { Algorithm = name, Prompt = e.Prompts[i], Completion = e.Samples[i], Reward = e.SampleRewards[i] });
        }
    }

    private void SummarizeSeed(ulong seed, SeedRun run, List<(string A, string B)> pairs)
    {
        foreach (var (a, b) in pairs)
        {
            var w = ArenaStatistics.WinRate(run.Evaluations[a].SampleRewards, run.Evaluations[b].SampleRewards);
            Log(string.Create(CultureInfo.InvariantCulture, $"[seed {seed}] {a} vs {b}: {100 * w.Rate:F1}% (±{100 * w.StandardError:F1}; {w.Wins} wins, {w.Ties} ties, {w.Losses} losses)"));
        }
    }

    private static void WriteEvaluation(string path, PolicyEvaluation e)
    {
        WriteJsonl(path, Enumerable.Range(0, e.Prompts.Count).Select(i =>
        {
            var row = new Dictionary<string, object>
            {
                ["prompt"] = e.Prompts[i], ["sample"] = e.Samples[i], ["sample_reward"] = e.SampleRewards[i], ["log_ratio"] = e.LogRatios[i],
            };
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
