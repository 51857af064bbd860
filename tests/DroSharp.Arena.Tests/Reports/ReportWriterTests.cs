using System.Text.Json;
using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Tests.Reports;

public sealed class ReportWriterTests : IDisposable
{
    private readonly TempDirectory _temp = new("drosharp-arena-report-");
    private readonly string _dir;

    public ReportWriterTests() => _dir = _temp.File("report"); // not created: the writer makes it

    public void Dispose() => _temp.Dispose();

    internal static ArenaResults Sample(int seeds = 2)
    {
        var results = new ArenaResults
        {
            Task = "sentiment",
            TaskDescription = "A toy sentiment task.",
            Settings = { ["steps"] = "200", ["tau"] = "1" },
            References = { new ReferenceValue { Name = "demonstrations", Value = -0.2 }, new ReferenceValue { Name = "best achievable", Value = 5.4 } },
        };
        string[] names = ["sft", "dro-v", "kto"];
        for (int a = 0; a < names.Length; a++)
        {
            var alg = new AlgorithmResult { Name = names[a] };
            for (int s = 0; s < seeds; s++)
            {
                var seed = new SeedResult { Seed = (ulong)(s + 1), TrainSeconds = 12.5 };
                for (int step = 0; step <= 200; step += 50)
                    seed.Curve.Add(new CurvePoint { Step = step, SampledReward = a * step / 100.0 + 0.1 * s, Kl = a * step / 50.0, WinRateVsSft = 0.5 + a * step / 1000.0, Loss = 0.7 - step / 1000.0 });
                seed.Final = new EvalMetrics { SampledReward = 2.0 * a + 0.1 * s, GreedyReward = 2.5 * a, WinRateVsSft = 0.5 + 0.1 * a + 0.01 * s, WinRateStandardError = 0.02, Kl = 4.0 * a + 0.2 * s, KlStandardError = 0.1, Prompts = 200 };
                alg.Seeds.Add(seed);
            }
            results.Algorithms.Add(alg);
        }
        results.Samples.Add(new SampleCompletion { Algorithm = "dro-v", Prompt = "the movie was", Completion = "very good | really .", Reward = 1.5 });
        return results;
    }

    [Fact]
    public void Write_ProducesJsonReportAndValidPlots()
    {
        var files = ReportWriter.Write(Sample(), _dir);
        var names = files.Select(f => Path.GetFileName(f)).ToList();
        Assert.Equal("results.json", names[0]);
        Assert.Equal("report.md", names[^1]);
        foreach (string expected in new[] { "reward_curve.svg", "win_rate_curve.svg", "kl_curve.svg", "loss_curve.svg", "reward_vs_kl.svg" })
            Assert.Contains(expected, names);
        Assert.DoesNotContain("greedy_reward_curve.svg", names); // no greedy reward on the curves: no plot
        Assert.All(files, f => Assert.True(File.Exists(f)));
        Assert.Equal(files.Count, Directory.GetFiles(_dir).Length); // no temporary files left

        string md = File.ReadAllText(Path.Combine(_dir, "report.md"));
        foreach (string svg in names.Where(n => n.EndsWith(".svg", StringComparison.Ordinal)))
        {
            Assert.Contains($"]({svg})", md);
            var doc = SvgTestUtil.ParseAndCheck(File.ReadAllText(Path.Combine(_dir, svg)));
            var texts = SvgTestUtil.Texts(doc).ToList();
            Assert.Contains("dro-v", texts);
            Assert.Contains("kto", texts);
            Assert.Contains("sft", texts);
        }
        var reward = SvgTestUtil.ParseAndCheck(File.ReadAllText(Path.Combine(_dir, "reward_curve.svg")));
        Assert.Contains("demonstrations", SvgTestUtil.Texts(reward));
        Assert.Equal(3, reward.Descendants(SvgTestUtil.Svg + "polygon").Count()); // a band per algorithm (2 seeds)
    }

    [Fact]
    public void Markdown_HasTheResultsTable()
    {
        var results = Sample();
        string md = ReportWriter.RenderMarkdown(results, ReportWriter.BuildPlots(results));
        Assert.StartsWith("# DroSharp arena: sentiment", md);
        Assert.Contains("| algorithm | chosen on validation | seeds | reward (sampled) | reward (greedy) | win rate vs SFT | KL(π‖π_ref) |", md);
        // dro-v: rewards 2.0 and 2.1 → mean 2.05, sample std 0.0707; win rates 60 % and 61 %.
        Assert.Contains("| dro-v | — | 2 | 2.050 ± 0.071 | 2.500 ± 0.000 | 60.5% ± 0.7 | 4.100 ± 0.141 |", md);
        Assert.Contains("demonstrations -0.200", md);
        Assert.Contains("| steps | 200 |", md);
        Assert.Contains("very good \\| really .", md); // pipe escaped inside a table cell
        Assert.Contains("[results.json](results.json)", md);
    }

    [Fact]
    public void Markdown_WithOneSeedShowsTheStandardErrorOverPrompts()
    {
        var results = Sample(seeds: 1);
        results.Algorithms[1].Seeds[0].Final.GreedyReward = null;
        string md = ReportWriter.RenderMarkdown(results, []);
        Assert.Contains("| dro-v | — | 1 | 2.000 | — | 60.0% (s.e. 2.0) | 4.000 (s.e. 0.100) |", md);
        Assert.DoesNotContain("## Plots", md);
    }

    [Fact]
    public void Plots_AreOnlyMadeForMeasuredMetrics()
    {
        var results = Sample();
        foreach (var seed in results.Algorithms.SelectMany(a => a.Seeds))
        {
            seed.Curve.Clear();
            seed.Final.Kl = null;
        }
        Assert.Empty(ReportWriter.BuildPlots(results));
    }

    [Fact]
    public void Json_IsSnakeCaseAndRoundTrips()
    {
        var results = Sample();
        results.Algorithms[2].Seeds[0].Final.Kl = double.NaN; // a diverged run is kept, not hidden
        string json = ResultsJson.Serialize(results);
        Assert.Contains("\"task_description\"", json);
        Assert.Contains("\"sampled_reward\"", json);
        Assert.Contains("\"win_rate_vs_sft\"", json);
        Assert.Contains("\"win_rate_standard_error\"", json);
        Assert.Contains("\"train_seconds\"", json);
        Assert.Contains("\"NaN\"", json);
        Assert.DoesNotContain("\"created_utc\"", json); // nulls are left out
        Assert.DoesNotContain("SampledReward", json);

        var back = ResultsJson.Deserialize(json);
        Assert.Equal(json, ResultsJson.Serialize(back));
        Assert.True(double.IsNaN(back.Algorithms[2].Seeds[0].Final.Kl!.Value));
        using var parsed = JsonDocument.Parse(json); // standard JSON
        Assert.Equal("sentiment", parsed.RootElement.GetProperty("task").GetString());
    }

    [Fact]
    public void Json_ReadAndWriteUseFiles()
    {
        string path = Path.Combine(_dir, "nested", "results.json");
        ResultsJson.Write(path, Sample());
        Assert.Equal(ResultsJson.Serialize(Sample()), File.ReadAllText(path));
        Assert.Equal("dro-v", ResultsJson.Read(path).Algorithms[1].Name);
    }

    [Theory]
    [InlineData("{\"task\": \"x\",\n \"algorithms\": [ {\"name\": \"a\", \"seeds\": 3} ] }", "line 2")]
    [InlineData("{\"task\": \"x\", \"bogus_field\": 1}", "bogus_field")]
    [InlineData("{\"algorithms\": []}", "'task'")]
    [InlineData("{\"task\": \"x\", \"algorithms\": [ {\"name\": \"a\"}, {\"name\": \"a\"} ] }", "appears twice")]
    [InlineData("{\"task\": \"x\", \"algorithms\": [ {\"name\": \"\"} ] }", "algorithms[0]")]
    public void Json_ErrorsNameTheProblem(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ResultsJson.Deserialize(json, "runs/x/results.json"));
        Assert.Contains("runs/x/results.json", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
