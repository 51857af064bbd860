using System.Globalization;
using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Pipeline;

/// <summary>
/// Turns the seeds' runs into <see cref="ArenaResults"/>: chooses each arm's learning rate and step on the validation
/// prompts (<see cref="HyperparameterSelection"/>), reports the test evaluation of that point, compares arms head to
/// head on the test prompts, and chooses the best τ (DRO-V) and β (KTO) on validation too. Test numbers never feed a
/// choice.
/// </summary>
internal sealed class ResultsAssembler(ExperimentConfig config, TextWriter log)
{
    public void Assemble(ArenaResults results, IReadOnlyList<SeedRun> seeds)
    {
        string criterion = string.Create(CultureInfo.InvariantCulture,
            $"highest mean over seeds of the win rate against SFT on the {config.ValidationPrompts} validation prompts (ties: higher validation reward, then earlier step, then smaller learning rate)");

        var sft = new AlgorithmResult { Name = ArenaPipeline.SftName, Description = "the SFT policy π_ref (also the behaviour policy μ)", Group = AlgorithmSpec.MainGroup };
        foreach (var s in seeds)
        {
            sft.Seeds.Add(new SeedResult
            {
                Seed = s.Seed,
                Final = new EvalMetrics { SampledReward = s.SftTest.MeanSampleReward, GreedyReward = s.SftTest.MeanGreedyReward, Kl = 0, Prompts = s.SftTest.Prompts.Count },
                Validation = new EvalMetrics { SampledReward = s.SftValidation.MeanSampleReward, Prompts = s.SftValidation.Prompts.Count },
                TrainSeconds = s.SftSeconds,
            });
        }
        results.Algorithms.Add(sft);

        // Per arm: the selection, then the test evaluation of the chosen point on every seed.
        var chosen = new Dictionary<string, List<PolicyEvaluation>>(StringComparer.Ordinal) { [ArenaPipeline.SftName] = seeds.Select(s => s.SftTest).ToList() };
        var validationScore = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < config.Algorithms.Count; i++)
        {
            var spec = config.Algorithms[i];
            var arm = new AlgorithmResult
            {
                Name = spec.Name, Description = spec.Describe(), Objective = spec.Objective, Regularisation = spec.Regularisation,
                Value = spec.IsDroV ? spec.Value : null, KtoLabel = spec.IsKto ? spec.KtoLabel : null, LearningRate = spec.LearningRate, Group = spec.Group,
            };
            var runs = seeds.Select(s => s.Arms[i]).ToList();
            arm.Failures.AddRange(runs.SelectMany(r => r.Failures));
            arm.Selection = HyperparameterSelection.Select(
                runs.Select(r => (IReadOnlyDictionary<CandidateKey, ValidationScore>)r.Candidates.ToDictionary(
                    kv => kv.Key, kv => new ValidationScore(kv.Value.ValidationWinRate, kv.Value.Validation.MeanSampleReward))).ToList(),
                criterion);
            results.Algorithms.Add(arm);
            if (arm.Selection.LearningRate is not double lr || arm.Selection.Step is not int step)
            {
                Log($"{spec.Name}: no setting of the grid was reached by every seed ({arm.Failures.Count} failed run(s)); reported as failed");
                continue;
            }
            var key = new CandidateKey(lr, step);
            validationScore[spec.Name] = arm.Selection.Grid.Single(g => g.LearningRate == lr && g.Step == step).ValidationWinRate!.Value;
            var evaluations = new List<PolicyEvaluation>();
            for (int s = 0; s < seeds.Count; s++)
            {
                var run = runs[s];
                var point = run.Candidates[key];
                evaluations.Add(point.Test);
                arm.Seeds.Add(SeedResult(seeds[s], run, point, lr));
                string dir = Path.Combine(seeds[s].Directory, "runs", ArenaPipeline.RunDirectoryName(spec.Name));
                ArenaPipeline.WriteEvaluation(Path.Combine(dir, "eval.jsonl"), point.Test);
                ArenaPipeline.WriteEvaluation(Path.Combine(dir, "eval_validation.jsonl"), point.Validation);
            }
            chosen[spec.Name] = evaluations;
            Log(string.Create(CultureInfo.InvariantCulture,
                $"{spec.Name}: chosen on validation LR {SelectionReport.Lr(lr)}, step {step} (validation win rate vs sft {100 * validationScore[spec.Name]:F1}%); " +
                $"test win rate vs sft {100 * arm.Seeds.Average(x => x.Final.WinRateVsSft!.Value):F1}% (mean over seeds)"));
        }

        foreach (var (a, b) in ArenaPipeline.HeadToHeadPairs(config.Algorithms))
            if (chosen.ContainsKey(a) && chosen.ContainsKey(b)) results.HeadToHead.Add(HeadToHead(a, b, seeds, chosen));

        var droChoice = ChooseStrength(results, "DRO-V (per-example value)", a => a.Objective == "dro-v" && a.Value is null or "per-example", validationScore);
        var ktoChoice = ChooseStrength(results, "KTO (batch-mean labels)", a => a.Objective == "kto" && a.KtoLabel == "batch-mean", validationScore);
        if (droChoice is not null && ktoChoice is not null)
        {
            results.StrengthChoices.Add(droChoice);
            results.StrengthChoices.Add(ktoChoice);
            if (!results.HeadToHead.Any(h => h.A == droChoice.Chosen && h.B == ktoChoice.Chosen))
                results.HeadToHead.Add(HeadToHead(droChoice.Chosen, ktoChoice.Chosen, seeds, chosen));
            var best = results.HeadToHead.Single(h => h.A == droChoice.Chosen && h.B == ktoChoice.Chosen);
            Log(string.Create(CultureInfo.InvariantCulture, $"chosen on validation: {droChoice.Chosen} and {ktoChoice.Chosen}; test: {100 * best.Seeds.Average(s => s.WinRate):F1}% (mean over seeds)"));
        }

        foreach (var (name, evaluations) in chosen)
        {
            var spec = config.Algorithms.FirstOrDefault(a => a.Name == name);
            if (spec is not null && spec.Group != AlgorithmSpec.MainGroup) continue;
            var e = evaluations[0];
            for (int i = 0; i < Math.Min(config.SampleCount, e.Prompts.Count); i++)
                results.Samples.Add(new SampleCompletion { Algorithm = name, Prompt = e.Prompts[i], Completion = e.Samples[i], Reward = e.SampleRewards[i] });
        }
        results.Optimum.AddRange(seeds.SelectMany(s => s.Optimum));
    }

    /// <summary>One seed of an arm at its chosen point: the test numbers, the validation numbers and the curve of the chosen learning rate.</summary>
    private SeedResult SeedResult(SeedRun seed, ArmRun run, CandidateEvaluation point, double lr)
    {
        var win = ArenaStatistics.WinRate(point.Test.SampleRewards, seed.SftTest.SampleRewards);
        var kl = ArenaStatistics.KlFromLogRatios(point.Test.LogRatios);
        var result = new SeedResult
        {
            Seed = seed.Seed,
            TrainSeconds = run.TrainSeconds[lr],
            Final = new EvalMetrics
            {
                SampledReward = point.Test.MeanSampleReward, GreedyReward = point.Test.MeanGreedyReward,
                WinRateVsSft = win.Rate, WinRateStandardError = win.StandardError, Kl = kl.Kl, KlStandardError = kl.StandardError,
                Prompts = point.Test.Prompts.Count,
            },
            Validation = new EvalMetrics
            {
                SampledReward = point.Validation.MeanSampleReward, WinRateVsSft = point.ValidationWinRate, Prompts = point.Validation.Prompts.Count,
            },
        };
        if (config.CheckpointEvery > 0)
        {
            result.Curve.Add(new CurvePoint
            {
                Step = 0, SampledReward = seed.SftTest.MeanSampleReward, GreedyReward = seed.SftTest.MeanGreedyReward, WinRateVsSft = 0.5, Kl = 0,
            });
            var losses = run.Losses[lr];
            foreach (var (key, e) in run.Candidates.Where(kv => kv.Key.LearningRate == lr))
            {
                result.Curve.Add(new CurvePoint
                {
                    Step = key.Step,
                    SampledReward = e.Test.MeanSampleReward,
                    GreedyReward = e.Test.MeanGreedyReward,
                    WinRateVsSft = ArenaStatistics.WinRate(e.Test.SampleRewards, seed.SftTest.SampleRewards).Rate,
                    Kl = e.Test.LogRatios.Average(),
                    Loss = losses.TryGetValue(key.Step, out double loss) ? loss : null,
                });
            }
        }
        return result;
    }

    private static HeadToHeadResult HeadToHead(string a, string b, IReadOnlyList<SeedRun> seeds, Dictionary<string, List<PolicyEvaluation>> chosen)
    {
        var h = new HeadToHeadResult { A = a, B = b };
        for (int s = 0; s < seeds.Count; s++)
        {
            var w = ArenaStatistics.WinRate(chosen[a][s].SampleRewards, chosen[b][s].SampleRewards);
            h.Seeds.Add(new HeadToHeadSeed { Seed = seeds[s].Seed, WinRate = w.Rate, StandardError = w.StandardError, Wins = w.Wins, Ties = w.Ties, Losses = w.Losses });
        }
        return h;
    }

    /// <summary>
    /// Among the arms of one family that differ in τ or β (main and sweep groups, no own learning rate), the one with the
    /// highest validation win rate at its selected point; null unless a sweep arm of the family was selected.
    /// </summary>
    internal static StrengthChoice? ChooseStrength(ArenaResults results, string family, Func<AlgorithmResult, bool> member, IReadOnlyDictionary<string, double> validationScore)
    {
        var arms = results.Algorithms
            .Where(a => a.LearningRate is null && a.Group is AlgorithmSpec.MainGroup or AlgorithmSpec.SweepGroup && a.Regularisation is not null && member(a) && validationScore.ContainsKey(a.Name))
            .ToList();
        if (!arms.Any(a => a.Group == AlgorithmSpec.SweepGroup)) return null;
        var choice = new StrengthChoice
        {
            Family = family,
            Criterion = "highest mean over seeds of the validation win rate against SFT, each arm at its own selected learning rate and step",
        };
        foreach (var a in arms.OrderBy(a => a.Regularisation))
            choice.Candidates.Add(new StrengthCandidate { Name = a.Name, Strength = a.Regularisation!.Value, ValidationWinRate = validationScore[a.Name] });
        choice.Chosen = choice.Candidates.OrderByDescending(c => c.ValidationWinRate).ThenBy(c => c.Strength).First().Name;
        return choice;
    }

    private void Log(string message)
    {
        log.WriteLine(message);
        log.Flush();
    }
}
