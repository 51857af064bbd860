using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Tests.Pipeline;

/// <summary>The report parts the pipeline adds: head-to-head table, τ/β sweep table and plot, value ablation, the terminal table.</summary>
public sealed class ReportSectionsTests
{
    private static AlgorithmResult Arm(string name, string? objective, double? strength, string? group, double win, double kl, string? value = null, string? label = null)
    {
        var a = new AlgorithmResult { Name = name, Objective = objective, Regularisation = strength, Group = group, Value = value, KtoLabel = label };
        for (int s = 0; s < 3; s++)
            a.Seeds.Add(new SeedResult
            {
                Seed = (ulong)s + 1,
                Final = new EvalMetrics { SampledReward = win + 0.01 * s, GreedyReward = win, WinRateVsSft = objective is null ? null : win + 0.01 * s, WinRateStandardError = 0.02, Kl = kl + 0.1 * s, KlStandardError = 0.05, Prompts = 100 },
            });
        return a;
    }

    private static ArenaResults Sample() => new()
    {
        Task = "arithmetic",
        Algorithms =
        {
            Arm("sft", null, null, "main", 0.5, 0),
            Arm("dro-v", "dro-v", 1, "main", 0.7, 0.4, value: "per-example"),
            Arm("kto-paper", "kto", 5, "main", 0.75, 0.8, label: "batch-mean"),
            Arm("dro-v:tau=0.1", "dro-v", 0.1, "sweep", 0.74, 1.5, value: "per-example"),
            Arm("kto-paper:beta=1", "kto", 1, "sweep", 0.78, 1.2, label: "batch-mean"),
            Arm("dro-v:value=single", "dro-v", 1, "value", 0.69, 0.3, value: "single"),
            Arm("dro-v:value=shared", "dro-v", 1, "value", 0.695, 0.35, value: "shared"),
        },
        HeadToHead =
        {
            new HeadToHeadResult
            {
                A = "dro-v", B = "kto-paper",
                Seeds = { new HeadToHeadSeed { Seed = 1, WinRate = 0.4, StandardError = 0.01 }, new HeadToHeadSeed { Seed = 2, WinRate = 0.42, StandardError = 0.01 } },
            },
        },
    };

    [Fact]
    public void Markdown_HasMainTableOfMainArmsOnly_AndTheExtraSections()
    {
        var results = Sample();
        var plots = ReportWriter.BuildPlots(results);
        string md = ReportWriter.RenderMarkdown(results, plots);
        string main = md[md.IndexOf("## Results", StringComparison.Ordinal)..md.IndexOf("## Head to head", StringComparison.Ordinal)];
        Assert.Contains("| dro-v | — | 3 |", main);
        Assert.DoesNotContain("dro-v:tau=0.1 |", main);
        Assert.Contains("| dro-v vs kto-paper | 41.0% ± 1.4 | 40.0%, 42.0% |", md);
        Assert.Contains("### DRO-V", md);
        Assert.Contains("### KTO (batch-mean labels)", md);
        Assert.True(md.IndexOf("| τ=0.1 | dro-v:tau=0.1 |", StringComparison.Ordinal) < md.IndexOf("| τ=1 | dro-v |", StringComparison.Ordinal)); // by strength
        Assert.Contains("| β=1 | kto-paper:beta=1 |", md);
        Assert.Contains("| two networks | 71.0% ± 1.0 (`dro-v`) | 70.0% ± 1.0 (`dro-v:value=single`) |", md);
        Assert.Contains("| one network | 70.5% ± 1.0 (`dro-v:value=shared`) |", md);
        Assert.Contains(plots, p => p.FileName == "reward_vs_kl_sweep.svg");
    }

    [Fact]
    public void SweepPlot_HasOneLinePerFamilyAndALabelledPointPerStrength()
    {
        var plot = ReportWriter.BuildPlots(Sample()).Single(p => p.FileName == "reward_vs_kl_sweep.svg").Plot;
        Assert.Equal(["DRO-V", "KTO (batch-mean labels)"], plot.Series.Select(s => s.Name));
        Assert.Equal(2, plot.Series[0].X.Count); // two DRO-V strengths, joined in order of strength
        Assert.Equal([1.6, 0.5], plot.Series[0].X.Select(x => Math.Round(x, 9)));
        Assert.Equal(["τ=0.1", "τ=1", "β=1", "β=5"], plot.Points.Select(p => p.Label));
        Assert.Equal(1.6, plot.Points[0].X, 9); // mean KL over seeds of dro-v:tau=0.1 (1.5, 1.6, 1.7)
        Assert.NotNull(plot.Points[0].XError);
    }

    [Fact]
    public void NoSweepArms_NoSweepSectionOrPlot()
    {
        var results = Sample();
        results.Algorithms.RemoveAll(a => a.Group is "sweep" or "value");
        var plots = ReportWriter.BuildPlots(results);
        string md = ReportWriter.RenderMarkdown(results, plots);
        Assert.DoesNotContain("Regularisation", md);
        Assert.DoesNotContain("Value ablation", md);
        Assert.DoesNotContain(plots, p => p.FileName == "reward_vs_kl_sweep.svg");
    }

    [Fact]
    public void ResultsTable_ListsEveryArmAndTheHeadToHead()
    {
        string text = ResultsTable.Render(Sample());
        var lines = text.Split('\n');
        Assert.StartsWith("arithmetic: 100 test prompts, 3 seed(s); mean ± std over seeds", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("sft ", StringComparison.Ordinal) && l.Contains('—'));
        Assert.Contains(lines, l => l.StartsWith("dro-v:value=shared", StringComparison.Ordinal) && l.Contains("70.5% ± 1.0"));
        Assert.Contains(lines, l => l.StartsWith("dro-v vs kto-paper", StringComparison.Ordinal) && l.Contains("41.0% ± 1.4"));
        // Columns line up: every row of the first table has the same length.
        var table = lines.Skip(1).TakeWhile(l => l.Length > 0).Where(l => !l.StartsWith('-')).ToList();
        Assert.Single(table.Select(l => l.Length).Distinct());
    }

    [Fact]
    public void OptimumSection_SetsEachDroVRunBesidePiStarOfItsTau()
    {
        var results = Sample();
        // π_ref 0.5, π* 0.9 on both seeds; dro-v (τ = 1) reaches 0.7 and 0.71 (Arm's rewards: win + 0.01·seed index).
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
            results.Optimum.Add(new OptimumEstimate { Seed = seed, Tau = 1, ExpectedReward = 0.9, ReferenceReward = 0.5, Kl = 0.4, StandardError = 0.01, MeanEffectiveSampleSize = 20, MinEffectiveSampleSize = 3, SamplesPerPrompt = 64, Prompts = 100 });
        string md = ReportWriter.RenderMarkdown(results, []);
        Assert.Contains("## The KL-regularised optimum π*", md);
        Assert.Contains("| 1 | π* (estimate) | 0.900 ± 0.000 | 0.400 ± 0.000 | 100% | 0.010 | 20.0 (min 3.0) |", md);
        // (0.70 − 0.5)/0.4, (0.71 − 0.5)/0.4, (0.72 − 0.5)/0.4 = 50, 52.5, 55 %
        Assert.Contains("| 1 | `dro-v` | 0.710 ± 0.010 | 0.500 ± 0.100 | 52.5% ± 2.5 | | |", md);
        Assert.Contains("| 1 | `dro-v:value=single` |", md);
        Assert.DoesNotContain("`dro-v:tau=0.1`", md[md.IndexOf("## The KL-regularised", StringComparison.Ordinal)..]); // no π* estimate at τ = 0.1
    }

    [Fact]
    public void SelectionSection_ShowsTheGridWithTheChoiceInBold()
    {
        var results = Sample();
        results.Algorithms[1].Selection = new SelectionResult
        {
            Criterion = "the rule", LearningRate = 1e-4, Step = 200,
            Grid =
            {
                new GridPoint { LearningRate = 1e-4, Step = 100, ValidationWinRate = 0.6, ValidationWinRateStd = 0.01, Seeds = 3, Eligible = true },
                new GridPoint { LearningRate = 1e-4, Step = 200, ValidationWinRate = 0.65, ValidationWinRateStd = 0.02, Seeds = 3, Eligible = true },
                new GridPoint { LearningRate = 1e-3, Step = 100, ValidationWinRate = 0.7, ValidationWinRateStd = 0.0, Seeds = 1, Eligible = false },
            },
        };
        results.Algorithms[1].Failures.Add(new RunFailure { Seed = 2, LearningRate = 1e-3, Step = 140, Diverged = true, Message = "the loss became NaN at step 140" });
        string md = ReportWriter.RenderMarkdown(results, []);
        Assert.Contains("| dro-v | LR 1e-4, step 200 † | 3 |", md); // the last step of the grid, and its smaller learning rate
        Assert.Contains(SelectionReport.EdgeNote, md);
        results.Algorithms[1].Selection!.Grid.Add(new GridPoint { LearningRate = 1e-4, Step = 300, ValidationWinRate = 0.6, Seeds = 3, Eligible = true });
        results.Algorithms[1].Selection!.Grid.Add(new GridPoint { LearningRate = 3e-5, Step = 300, ValidationWinRate = 0.6, Seeds = 3, Eligible = true });
        Assert.False(SelectionReport.OnEdge(results.Algorithms[1].Selection!)); // now inside: steps 100–300, rates 3e-5–1e-3
        Assert.Contains("**dro-v**: chosen LR 1e-4, step 200 (validation win rate 65.0% ± 2.0 over 3 seeds).", md);
        Assert.Contains("| 1e-4 | 60.0% ± 1.0 | **65.0% ± 2.0** |", md);
        Assert.Contains("| 1e-3 | 70.0% (only 1 seed) | — |", md);
        Assert.Contains("| dro-v | 2 | 1e-3 | 140 | diverged: the loss became NaN at step 140 |", md);
    }

    [Fact]
    public void ResultsJson_RoundTripsTheNewFields()
    {
        var results = Sample();
        var back = ResultsJson.Deserialize(ResultsJson.Serialize(results));
        Assert.Equal(ResultsJson.Serialize(results), ResultsJson.Serialize(back));
        Assert.Contains("\"head_to_head\"", ResultsJson.Serialize(results));
        Assert.Contains("\"regularisation\": 0.1", ResultsJson.Serialize(results));
        Assert.Throws<FormatException>(() => ResultsJson.Deserialize("{\"task\":\"t\",\"head_to_head\":[{\"a\":\"x\"}]}"));
    }
}
