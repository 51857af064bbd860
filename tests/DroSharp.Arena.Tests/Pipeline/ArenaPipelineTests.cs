using DroSharp.Arena.Pipeline;
using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Tests.Pipeline;

public sealed class ArenaPipelineTests : IDisposable
{
    private readonly List<string> _dirs = [];

    public void Dispose()
    {
        foreach (var d in _dirs) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
    }

    private string NewDir()
    {
        string d = TinyExperiment.NewDirectory();
        _dirs.Add(d);
        return d;
    }

    [Fact]
    public void Run_WritesTheRunsAndAReportOfTheRightShape()
    {
        string dir = NewDir();
        var config = TinyExperiment.Config(dir, "dro-v,kto-paper,sft-pos", 7, 8).WithAblations([0.5], null, valueAblation: true);
        var log = new StringWriter();
        var results = new ArenaPipeline(config, log).Run();

        string[] arms = ["dro-v", "kto-paper", "sft-pos", "dro-v:tau=0.5", "dro-v:value=single", "dro-v:value=shared"];
        Assert.Equal(["sft", .. arms], results.Algorithms.Select(a => a.Name));
        Assert.All(results.Algorithms, a => Assert.Equal([7UL, 8UL], a.Seeds.Select(s => s.Seed)));

        var sft = results.Algorithms[0];
        Assert.All(sft.Seeds, s =>
        {
            Assert.Equal(0.0, s.Final.Kl);
            Assert.Null(s.Final.WinRateVsSft);
            Assert.Equal(12, s.Final.Prompts);
            Assert.NotNull(s.Final.GreedyReward);
        });
        foreach (var arm in results.Algorithms.Skip(1))
        {
            foreach (var s in arm.Seeds)
            {
                Assert.InRange(s.Final.WinRateVsSft!.Value, 0, 1);
                Assert.True(double.IsFinite(s.Final.Kl!.Value));
                Assert.InRange(s.Final.SampledReward, 0, 1); // arithmetic rewards lie in [0, 1]
                Assert.Equal(12, s.Final.Prompts);
                Assert.Equal([0, 2, 4], s.Curve.Select(p => p.Step));
                Assert.Equal(0.5, s.Curve[0].WinRateVsSft);
                Assert.All(s.Curve.Skip(1), p => Assert.NotNull(p.Loss));
                Assert.NotNull(s.TrainSeconds);
            }
        }
        Assert.Equal("sweep", results.Algorithms.Single(a => a.Name == "dro-v:tau=0.5").Group);
        Assert.Equal("value", results.Algorithms.Single(a => a.Name == "dro-v:value=shared").Group);
        Assert.Equal(0.5, results.Algorithms.Single(a => a.Name == "dro-v:tau=0.5").Regularisation);
        Assert.Equal([("dro-v", "kto-paper"), ("dro-v", "sft-pos")], results.HeadToHead.Take(2).Select(h => (h.A, h.B)));
        // Then, unless DRO-V's best τ is the default one, the best-strength pair.
        Assert.Equal(ArenaPipeline.BestStrengthPair(results) == ("dro-v", "kto-paper") ? 2 : 3, results.HeadToHead.Count);
        Assert.All(results.HeadToHead, h => Assert.Equal(2, h.Seeds.Count));
        Assert.All(results.HeadToHead.SelectMany(h => h.Seeds), s => Assert.Equal(12, s.Wins + s.Ties + s.Losses));
        Assert.Contains(results.References, r => r.Name == "demonstrations");
        Assert.Equal(4, results.Samples.Count); // sft and the three main arms, one each

        // The files: report, per-seed data and runs; intermediate checkpoints removed after the curves.
        foreach (string f in new[] { "results.json", "report.md", "tokenizer.json", "reward_curve.svg", "reward_vs_kl.svg", "reward_vs_kl_sweep.svg" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        string seed7 = Path.Combine(dir, "seed-7");
        Assert.Equal(32, File.ReadAllLines(Path.Combine(seed7, "feedback.jsonl")).Length);
        Assert.Equal(64, File.ReadAllLines(Path.Combine(seed7, "sft_data.jsonl")).Length);
        Assert.Equal(12, File.ReadAllLines(Path.Combine(seed7, "eval_sft.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(seed7, "sft", "final", "model.safetensors")));
        foreach (string arm in arms)
        {
            string run = Path.Combine(seed7, "runs", ArenaPipeline.RunDirectoryName(arm));
            Assert.True(File.Exists(Path.Combine(run, "final", "config.json")), arm);
            Assert.True(File.Exists(Path.Combine(run, "final", "tokenizer.json")), arm);
            Assert.Equal(12, File.ReadAllLines(Path.Combine(run, "eval.jsonl")).Length);
            Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")), arm);
        }

        var reread = ResultsJson.Read(Path.Combine(dir, "results.json"));
        Assert.Equal(ResultsJson.Serialize(results), ResultsJson.Serialize(reread));
        string md = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("## Head to head", md);
        Assert.Contains("## Value ablation (DRO-V)", md);
        Assert.Contains("| τ=0.5 | dro-v:tau=0.5 |", md);
        Assert.Contains("[seed 8] dro-v vs kto-paper", log.ToString());
    }

    [Fact]
    public void Run_TwiceWithTheSameConfig_GivesTheSameNumbers()
    {
        string a = NewDir(), b = NewDir();
        var first = new ArenaPipeline(TinyExperiment.Config(a, "dro-v,kto-trl"), TextWriter.Null).Run();
        var second = new ArenaPipeline(TinyExperiment.Config(b, "dro-v,kto-trl"), TextWriter.Null).Run();
        Assert.Equal(WithoutTimings(first), WithoutTimings(second));
        foreach (string file in new[] { "seed-7/feedback.jsonl", "seed-7/eval_sft.jsonl", "seed-7/runs/dro-v/eval.jsonl", "seed-7/runs/kto-trl/eval.jsonl" })
            Assert.Equal(File.ReadAllText(Path.Combine(a, file)), File.ReadAllText(Path.Combine(b, file)));
    }

    [Fact]
    public void Run_RefusesANonEmptyDirectoryUnlessAskedToOverwriteItsOwnFiles()
    {
        string dir = NewDir();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        var config = TinyExperiment.Config(dir, "dro-v") with { CurveEvery = 0 };
        Assert.Throws<IOException>(() => new ArenaPipeline(config, TextWriter.Null).Run());
        var results = new ArenaPipeline(config, TextWriter.Null).Run(overwrite: true);
        Assert.Empty(results.Algorithms[1].Seeds[0].Curve);
        new ArenaPipeline(config, TextWriter.Null).Run(overwrite: true);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt"))); // not ours: kept
    }

    [Fact]
    public void ScoreFeedback_WritesRewardsAndThresholdLabelsForThumbsArms()
    {
        string dir = NewDir();
        var config = TinyExperiment.Config(dir, "dro-v,kto-trl") with { Feedback = FeedbackMode.Score, FeedbackCenter = 0.1, CurveEvery = 0 };
        new ArenaPipeline(config, TextWriter.Null).Run();
        var rows = File.ReadAllLines(Path.Combine(dir, "seed-7", "feedback.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(rows, r => Assert.Equal(r.GetProperty("true_reward").GetDouble(), r.GetProperty("reward").GetDouble()));
        Assert.All(rows, r => Assert.False(r.TryGetProperty("label", out _)));
        var labelled = File.ReadAllLines(Path.Combine(dir, "seed-7", "feedback_labels.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(labelled, r => Assert.Equal(r.GetProperty("true_reward").GetDouble() > 0.1, r.GetProperty("label").GetBoolean()));
        Assert.Contains("feedback_labels.jsonl", File.ReadAllText(Path.Combine(dir, "seed-7", "runs", "kto-trl", "run.json")));
    }

    [Fact]
    public void BestStrengthPair_PicksTheHighestMeanWinRateOfEachFamily()
    {
        static AlgorithmResult Arm(string name, string objective, double strength, string group, string? label, params double[] wins)
        {
            var a = new AlgorithmResult { Name = name, Objective = objective, Regularisation = strength, Group = group, KtoLabel = label, Value = objective == "dro-v" ? "per-example" : null };
            foreach (double w in wins) a.Seeds.Add(new SeedResult { Final = new EvalMetrics { WinRateVsSft = w } });
            return a;
        }
        var results = new ArenaResults
        {
            Task = "t",
            Algorithms =
            {
                Arm("dro-v", "dro-v", 1, "main", null, 0.6, 0.62),
                Arm("kto-paper", "kto", 5, "main", "batch-mean", 0.7, 0.7),
                Arm("kto-trl", "kto", 0.1, "main", "labels", 0.9, 0.9), // not the paper's KTO family
                Arm("dro-v:tau=0.1", "dro-v", 0.1, "sweep", null, 0.75, 0.73),
                Arm("kto-paper:beta=1", "kto", 1, "sweep", "batch-mean", 0.71, 0.72),
            },
        };
        Assert.Equal(("dro-v:tau=0.1", "kto-paper:beta=1"), ArenaPipeline.BestStrengthPair(results));
        results.Algorithms.RemoveAll(a => a.Group == "sweep");
        Assert.Null(ArenaPipeline.BestStrengthPair(results));
    }

    private static string WithoutTimings(ArenaResults results)
    {
        var copy = ResultsJson.Deserialize(ResultsJson.Serialize(results));
        copy.Settings.Remove("wall time");
        foreach (var s in copy.Algorithms.SelectMany(a => a.Seeds)) s.TrainSeconds = null;
        return ResultsJson.Serialize(copy);
    }
}
