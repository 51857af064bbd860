using System.Text.Json;
using DroSharp.Arena.Pipeline;
using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Tests.Pipeline;

public sealed class ArenaPipelineTests : IDisposable
{
    private readonly List<TempDirectory> _dirs = [];

    public void Dispose()
    {
        foreach (var d in _dirs) d.Dispose();
    }

    /// <summary>A fresh output directory, not yet created (the pipeline makes it).</summary>
    private string NewDir()
    {
        var d = new TempDirectory("drosharp-arena-pipeline-");
        _dirs.Add(d);
        return d.File("experiment");
    }

    [Fact]
    public void Run_WritesTheRunsAndAReportOfTheRightShape()
    {
        string dir = NewDir();
        var config = TinyExperiment.Config(dir, "dro-v,kto-paper,sft-pos", 7, 8).WithAblations([0.5], [1], valueAblation: true) with { LearningRates = [1e-4, 1e-3] };
        var log = new StringWriter();
        var results = new ArenaPipeline(config, log).Run();

        string[] arms = ["dro-v", "kto-paper", "sft-pos", "dro-v:tau=0.5", "kto-paper:beta=1", "dro-v:value=single", "dro-v:value=shared"];
        Assert.Equal(["sft", .. arms], results.Algorithms.Select(a => a.Name));
        Assert.All(results.Algorithms, a => Assert.Equal([7UL, 8UL], a.Seeds.Select(s => s.Seed)));

        var sft = results.Algorithms[0];
        Assert.Null(sft.Selection);
        Assert.All(sft.Seeds, s =>
        {
            Assert.Equal(0.0, s.Final.Kl);
            Assert.Null(s.Final.WinRateVsSft);
            Assert.Equal(12, s.Final.Prompts);
            Assert.Equal(10, s.Validation!.Prompts);
            Assert.NotNull(s.Final.GreedyReward);
        });
        foreach (var arm in results.Algorithms.Skip(1))
        {
            Assert.Empty(arm.Failures);
            var selection = arm.Selection!;
            Assert.Equal([(1e-4, 2), (1e-4, 4), (1e-3, 2), (1e-3, 4)], selection.Grid.Select(g => (g.LearningRate, g.Step)));
            Assert.All(selection.Grid, g => { Assert.True(g.Eligible); Assert.Equal(2, g.Seeds); });
            foreach (var s in arm.Seeds)
            {
                Assert.InRange(s.Final.WinRateVsSft!.Value, 0, 1);
                Assert.True(double.IsFinite(s.Final.Kl!.Value));
                Assert.InRange(s.Final.SampledReward, 0, 1); // arithmetic rewards lie in [0, 1]
                Assert.Equal(12, s.Final.Prompts);
                Assert.Equal(10, s.Validation!.Prompts);
                Assert.Equal([0, 2, 4], s.Curve.Select(p => p.Step));
                Assert.Equal(0.5, s.Curve[0].WinRateVsSft);
                Assert.All(s.Curve.Skip(1), p => Assert.NotNull(p.Loss));
                Assert.NotNull(s.TrainSeconds);
            }
        }
        Assert.Equal("sweep", results.Algorithms.Single(a => a.Name == "dro-v:tau=0.5").Group);
        Assert.Equal("value", results.Algorithms.Single(a => a.Name == "dro-v:value=shared").Group);
        Assert.Equal([("dro-v", "kto-paper"), ("dro-v", "sft-pos")], results.HeadToHead.Take(2).Select(h => (h.A, h.B)));
        Assert.All(results.HeadToHead, h => Assert.Equal(2, h.Seeds.Count));
        Assert.All(results.HeadToHead.SelectMany(h => h.Seeds), s => Assert.Equal(12, s.Wins + s.Ties + s.Losses));
        Assert.Equal(["DRO-V (per-example value)", "KTO (batch-mean labels)"], results.StrengthChoices.Select(c => c.Family));
        Assert.Equal(["dro-v:tau=0.5", "dro-v"], results.StrengthChoices[0].Candidates.Select(c => c.Name));
        Assert.Equal(["kto-paper:beta=1", "kto-paper"], results.StrengthChoices[1].Candidates.Select(c => c.Name));
        Assert.Contains(results.HeadToHead, h => h.A == results.StrengthChoices[0].Chosen && h.B == results.StrengthChoices[1].Chosen);
        Assert.Contains(results.References, r => r.Name == "demonstrations");
        Assert.Equal(4, results.Samples.Count); // sft and the three main arms, one each

        // The files: report, per-seed data and runs (one per learning rate); checkpoints removed after evaluation.
        foreach (string f in new[] { "results.json", "report.md", "tokenizer.json", "reward_curve.svg", "reward_vs_kl.svg", "reward_vs_kl_sweep.svg" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        string seed7 = Path.Combine(dir, "seed-7");
        Assert.Equal(32, File.ReadAllLines(Path.Combine(seed7, "feedback.jsonl")).Length);
        Assert.Equal(64, File.ReadAllLines(Path.Combine(seed7, "sft_data.jsonl")).Length);
        Assert.Equal(12, File.ReadAllLines(Path.Combine(seed7, "eval_sft.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(seed7, "sft", "final", "model.safetensors")));
        foreach (string arm in arms)
        {
            string armDir = Path.Combine(seed7, "runs", ArenaPipeline.RunDirectoryName(arm));
            foreach (string lr in new[] { "lr-1e-4", "lr-1e-3" })
            {
                Assert.True(File.Exists(Path.Combine(armDir, lr, "final", "config.json")), arm);
                Assert.True(File.Exists(Path.Combine(armDir, lr, "final", "tokenizer.json")), arm);
                Assert.False(Directory.Exists(Path.Combine(armDir, lr, "checkpoints")), arm);
            }
            Assert.Contains("\"lr\": 0.001,", File.ReadAllText(Path.Combine(armDir, "lr-1e-3", "run.json")));
            Assert.Equal(12, File.ReadAllLines(Path.Combine(armDir, "eval.jsonl")).Length);
            Assert.Equal(10, File.ReadAllLines(Path.Combine(armDir, "eval_validation.jsonl")).Length);
        }

        var reread = ResultsJson.Read(Path.Combine(dir, "results.json"));
        Assert.Equal(ResultsJson.Serialize(results), ResultsJson.Serialize(reread));
        string md = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("## Head to head", md);
        Assert.Contains("## Value ablation (DRO-V)", md);
        Assert.Contains("## How settings were chosen", md);
        Assert.Contains("| LR \\ step | 2 | 4 |", md);
        Assert.Contains("| τ=0.5 | dro-v:tau=0.5 |", md);
        Assert.DoesNotContain("## Runs that diverged", md);
        Assert.Contains("[seed 8] dro-v LR 1e-3", log.ToString());
    }

    [Fact]
    public void Selection_IsTheBestValidationPoint_AndReportsTheTestEvaluationThere()
    {
        string dir = NewDir();
        var config = TinyExperiment.Config(dir, "dro-v,kto-paper", 7, 8).WithAblations([0.25], [1], valueAblation: false) with { LearningRates = [3e-4, 3e-3] };
        var results = new ArenaPipeline(config, TextWriter.Null).Run();

        foreach (var arm in results.Algorithms.Where(a => a.Selection is not null))
        {
            var sel = arm.Selection!;
            var best = sel.Grid.Where(g => g.Eligible).MaxBy(g => g.ValidationWinRate!.Value)!;
            Assert.Equal(best.ValidationWinRate, sel.Grid.Single(g => g.LearningRate == sel.LearningRate && g.Step == sel.Step).ValidationWinRate);
            // The per-seed validation numbers at the chosen point are the ones the grid averaged.
            Assert.Equal(best.ValidationWinRate!.Value, arm.Seeds.Average(s => s.Validation!.WinRateVsSft!.Value), 12);
            foreach (var s in arm.Seeds)
            {
                // The reported (test) numbers are the test evaluation of the chosen checkpoint of the chosen learning rate:
                // the curve is that learning rate's test evaluations, and its point at the chosen step is the final row.
                var atChosen = s.Curve.Single(p => p.Step == sel.Step);
                Assert.Equal(atChosen.SampledReward, s.Final.SampledReward);
                Assert.Equal(atChosen.WinRateVsSft, s.Final.WinRateVsSft);
                // And the run directory of the chosen learning rate holds the checkpoint's model: its evaluation file matches.
                string eval = Path.Combine(dir, $"seed-{s.Seed}", "runs", ArenaPipeline.RunDirectoryName(arm.Name), "eval.jsonl");
                double mean = File.ReadAllLines(eval).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("sample_reward").GetDouble()).Average();
                Assert.Equal(s.Final.SampledReward, mean, 12);
            }
        }
        foreach (var choice in results.StrengthChoices)
            Assert.Equal(choice.Candidates.MaxBy(c => c.ValidationWinRate)!.Name, choice.Chosen);
    }

    [Fact]
    public void ADivergingRun_IsReportedWithItsSeedAndStep_AndTheExperimentGoesOn()
    {
        string dir = NewDir();
        // LR 1e30: the first full step (after one warmup step at LR 0) throws the weights to ~1e30, and the next forward is not finite.
        var config = TinyExperiment.Config(dir, "dro-v,dro-v:lr=1e30,kto-paper", 7) with { Steps = 6 };
        var log = new StringWriter();
        var results = new ArenaPipeline(config, log).Run();

        var diverged = results.Algorithms.Single(a => a.Name == "dro-v:lr=1e+30");
        Assert.Empty(diverged.Seeds);
        Assert.Null(diverged.Selection!.LearningRate);
        Assert.NotEmpty(diverged.Failures);
        Assert.All(diverged.Failures, d => { Assert.Equal(7UL, d.Seed); Assert.Equal(1e30, d.LearningRate); Assert.InRange(d.Step, 1, 6); Assert.True(d.Diverged); });
        Assert.Contains(diverged.Failures, d => d.Message.Contains("step", StringComparison.Ordinal));
        Assert.Contains("DIVERGED", log.ToString());

        // The other arms ran to the end and were evaluated as usual, after the diverging one.
        foreach (string name in new[] { "dro-v", "kto-paper" })
        {
            var arm = results.Algorithms.Single(a => a.Name == name);
            Assert.Single(arm.Seeds);
            Assert.Empty(arm.Failures);
            Assert.Equal(6, arm.Selection!.Grid.Max(g => g.Step));
        }
        Assert.Equal([("dro-v", "kto-paper")], results.HeadToHead.Select(h => (h.A, h.B)));
        string md = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("## Runs that diverged or could not start", md);
        Assert.Contains("| dro-v:lr=1e+30 | diverged (see below) |", md);
        Assert.Contains("| dro-v:lr=1e+30 | 7 | 1e+30 |", md);
        Assert.Contains("diverged", ResultsTable.Render(results));
        Assert.Equal(ResultsJson.Serialize(results), ResultsJson.Serialize(ResultsJson.Read(Path.Combine(dir, "results.json"))));
    }

    [Fact]
    public void ARunThatCannotStart_IsReportedAndTheExperimentGoesOn()
    {
        string dir = NewDir();
        // Thumbs up with probability σ((r − 100)/0.1): never. SFT on positives has no rows to train on.
        var config = TinyExperiment.Config(dir, "sft-pos,dro-v") with { FeedbackCenter = 100 };
        var results = new ArenaPipeline(config, TextWriter.Null).Run();
        var failed = results.Algorithms.Single(a => a.Name == "sft-pos");
        var failure = Assert.Single(failed.Failures);
        Assert.False(failure.Diverged);
        Assert.Equal(0, failure.Step);
        Assert.Contains("positive", failure.Message);
        Assert.Empty(failed.Seeds);
        Assert.Single(results.Algorithms.Single(a => a.Name == "dro-v").Seeds);
        Assert.Contains("| sft-pos | failed (see below) |", File.ReadAllText(Path.Combine(dir, "report.md")));
    }

    [Fact]
    public void Resume_ReusesFinishedRuns_TrainsTheRest_AndGivesTheNumbersOfAFreshRun()
    {
        string dir = NewDir(), fresh = NewDir();
        new ArenaPipeline(TinyExperiment.Config(dir, "dro-v,kto-paper"), TextWriter.Null).Run();
        File.Delete(Path.Combine(dir, "seed-7", "runs", "kto-paper", "lr-1e-4", "evaluations.json")); // interrupted before its record

        // Resume with one more algorithm and one more seed.
        var log = new StringWriter();
        var resumed = new ArenaPipeline(TinyExperiment.Config(dir, "dro-v,kto-paper,sft-pos", 7, 8), log).Run(resume: true);
        string text = log.ToString();
        Assert.Contains("[seed 7] sft: reusing", text);
        Assert.Contains("[seed 7] dro-v LR 1e-4: reusing", text);
        Assert.DoesNotContain("[seed 7] kto-paper LR 1e-4: reusing", text);
        Assert.DoesNotContain("[seed 8] sft: reusing", text);

        var expected = new ArenaPipeline(TinyExperiment.Config(fresh, "dro-v,kto-paper,sft-pos", 7, 8), TextWriter.Null).Run();
        Assert.Equal(WithoutTimings(expected).Replace(fresh, "DIR"), WithoutTimings(resumed).Replace(dir, "DIR"));
        Assert.Throws<ArgumentException>(() => new ArenaPipeline(TinyExperiment.Config(dir), TextWriter.Null).Run(overwrite: true, resume: true));
    }

    [Fact]
    public void DecoderFamily_RunsTheSameTasksWithLlamasConventions()
    {
        string dir = NewDir();
        var config = TinyExperiment.Config(dir, "dro-v,kto-paper,sft-pos") with { Model = TinyExperiment.Llama, OptimumSamples = 4 };
        var results = new ArenaPipeline(config, TextWriter.Null).Run();

        Assert.Contains("\"model_type\": \"llama\"", File.ReadAllText(Path.Combine(dir, "seed-7", "init", "config.json")));
        var tokenizer = DroSharp.Text.Tokenizer.FromFile(Path.Combine(dir, "tokenizer.json"));
        int bos = tokenizer.BosId!.Value, eos = tokenizer.EosId!.Value;
        // Prompts start with BOS and hold no EOS; a completion ends at its first EOS (generation stops there) or at the token limit.
        // (An 8-step SFT policy may still sample any token, BOS included, inside a completion.)
        int finished = 0;
        foreach (string line in File.ReadAllLines(Path.Combine(dir, "seed-7", "feedback.jsonl")))
        {
            var row = JsonDocument.Parse(line).RootElement;
            int[] prompt = row.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] completion = row.GetProperty("completion_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(bos, prompt[0]);
            Assert.DoesNotContain(eos, prompt);
            int at = Array.IndexOf(completion, eos);
            if (at >= 0) { Assert.Equal(completion.Length - 1, at); finished++; }
            else Assert.Equal(new DroSharp.Arena.Tasks.ArithmeticTask().MaxCompletionTokens + 1, completion.Length);
        }
        Assert.True(finished > 0);
        // SFT's text completions were encoded as words + EOS: π_ref learned to stop, so most greedy answers are short.
        Assert.Contains("\"completion\"", File.ReadAllText(Path.Combine(dir, "seed-7", "sft_data.jsonl")));

        Assert.Equal(["sft", "dro-v", "kto-paper", "sft-pos"], results.Algorithms.Select(a => a.Name));
        Assert.All(results.Algorithms.Skip(1), a => Assert.Single(a.Seeds));
        Assert.Contains("Llama", results.Settings["model"]);
        var optimum = Assert.Single(results.Optimum);
        Assert.Equal(1.0, optimum.Tau);
        Assert.Equal(4, optimum.SamplesPerPrompt);
        Assert.Equal(12, optimum.Prompts);
        Assert.InRange(optimum.MeanEffectiveSampleSize, 1, 4);
        Assert.InRange(optimum.ExpectedReward, 0, 1);
        Assert.Contains("## The KL-regularised optimum π*", File.ReadAllText(Path.Combine(dir, "report.md")));
    }

    [Fact]
    public void Run_TwiceWithTheSameConfig_GivesTheSameNumbers()
    {
        string a = NewDir(), b = NewDir();
        var first = new ArenaPipeline(TinyExperiment.Config(a, "dro-v,kto-trl"), TextWriter.Null).Run();
        var second = new ArenaPipeline(TinyExperiment.Config(b, "dro-v,kto-trl"), TextWriter.Null).Run();
        Assert.Equal(WithoutTimings(first), WithoutTimings(second));
        foreach (string file in new[] { "seed-7/feedback.jsonl", "seed-7/eval_sft.jsonl", "seed-7/runs/dro-v/eval.jsonl", "seed-7/runs/kto-trl/eval.jsonl", "seed-7/runs/dro-v/eval_validation.jsonl" })
            Assert.Equal(File.ReadAllText(Path.Combine(a, file)), File.ReadAllText(Path.Combine(b, file)));
    }

    [Fact]
    public void Run_RefusesANonEmptyDirectoryUnlessAskedToOverwriteItsOwnFiles()
    {
        string dir = NewDir();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        var config = TinyExperiment.Config(dir, "dro-v") with { CheckpointEvery = 0 };
        Assert.Throws<IOException>(() => new ArenaPipeline(config, TextWriter.Null).Run());
        var results = new ArenaPipeline(config, TextWriter.Null).Run(overwrite: true);
        Assert.Empty(results.Algorithms[1].Seeds[0].Curve);
        Assert.Equal([4], results.Algorithms[1].Selection!.Grid.Select(g => g.Step)); // no step selection: the final step only
        new ArenaPipeline(config, TextWriter.Null).Run(overwrite: true);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt"))); // not ours: kept
    }

    [Fact]
    public void ScoreFeedback_WritesRewardsAndThresholdLabelsForThumbsArms()
    {
        string dir = NewDir();
        var config = TinyExperiment.Config(dir, "dro-v,kto-trl") with { Feedback = FeedbackMode.Score, FeedbackCenter = 0.1, CheckpointEvery = 0 };
        new ArenaPipeline(config, TextWriter.Null).Run();
        var rows = File.ReadAllLines(Path.Combine(dir, "seed-7", "feedback.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(rows, r => Assert.Equal(r.GetProperty("true_reward").GetDouble(), r.GetProperty("reward").GetDouble()));
        Assert.All(rows, r => Assert.False(r.TryGetProperty("label", out _)));
        var labelled = File.ReadAllLines(Path.Combine(dir, "seed-7", "feedback_labels.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(labelled, r => Assert.Equal(r.GetProperty("true_reward").GetDouble() > 0.1, r.GetProperty("label").GetBoolean()));
        Assert.Contains("feedback_labels.jsonl", File.ReadAllText(Path.Combine(dir, "seed-7", "runs", "kto-trl", "lr-1e-4", "run.json")));
    }

    [Fact]
    public void ChooseStrength_PicksTheHighestValidationScoreOfEachFamily()
    {
        static AlgorithmResult Arm(string name, string objective, double strength, string group, string? label)
            => new() { Name = name, Objective = objective, Regularisation = strength, Group = group, KtoLabel = label, Value = objective == "dro-v" ? "per-example" : null };
        var results = new ArenaResults
        {
            Task = "t",
            Algorithms =
            {
                Arm("dro-v", "dro-v", 1, "main", null),
                Arm("kto-paper", "kto", 5, "main", "batch-mean"),
                Arm("kto-trl", "kto", 0.1, "main", "labels"), // not the paper's KTO family
                Arm("dro-v:tau=0.1", "dro-v", 0.1, "sweep", null),
                Arm("kto-paper:beta=1", "kto", 1, "sweep", "batch-mean"),
            },
        };
        var validation = new Dictionary<string, double>
        {
            ["dro-v"] = 0.61, ["kto-paper"] = 0.70, ["kto-trl"] = 0.9, ["dro-v:tau=0.1"] = 0.74, ["kto-paper:beta=1"] = 0.715,
        };
        var dro = ResultsAssembler.ChooseStrength(results, "DRO-V", a => a.Objective == "dro-v", validation)!;
        var kto = ResultsAssembler.ChooseStrength(results, "KTO", a => a.Objective == "kto" && a.KtoLabel == "batch-mean", validation)!;
        Assert.Equal("dro-v:tau=0.1", dro.Chosen);
        Assert.Equal("kto-paper:beta=1", kto.Chosen);
        Assert.Equal(["kto-paper:beta=1", "kto-paper"], kto.Candidates.Select(c => c.Name)); // by strength; kto-trl is not of the family
        validation.Remove("dro-v:tau=0.1"); // a diverged sweep arm has no score: the family has no sweep arm left
        Assert.Null(ResultsAssembler.ChooseStrength(results, "DRO-V", a => a.Objective == "dro-v", validation));
    }

    private static string WithoutTimings(ArenaResults results)
    {
        var copy = ResultsJson.Deserialize(ResultsJson.Serialize(results));
        copy.Settings.Remove("wall time");
        foreach (var s in copy.Algorithms.SelectMany(a => a.Seeds)) s.TrainSeconds = null;
        return ResultsJson.Serialize(copy);
    }
}
