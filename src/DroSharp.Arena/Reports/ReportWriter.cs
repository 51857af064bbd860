using DroSharp.Models.Checkpoints;
using System.Globalization;
using System.Text;

namespace DroSharp.Arena.Reports;

/// <summary>
/// Writes an experiment's report into a directory: <c>results.json</c>, <c>report.md</c> (markdown tables
/// linking the plots) and one SVG per plot. Across plots, an algorithm keeps the same colour (the order of
/// <see cref="ArenaResults.Algorithms"/>).
/// </summary>
public static class ReportWriter
{
    public const string ReportFileName = "report.md";

    /// <summary>Writes every file (each atomically) and returns their full paths, results.json first.</summary>
    public static IReadOnlyList<string> Write(ArenaResults results, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        string json = Path.Combine(outputDirectory, ResultsJson.FileName);
        ResultsJson.Write(json, results);
        written.Add(Path.GetFullPath(json));

        var plots = BuildPlots(results);
        foreach (var plot in plots)
        {
            string path = Path.Combine(outputDirectory, plot.FileName);
            plot.Plot.Save(path);
            written.Add(Path.GetFullPath(path));
        }
        string report = Path.Combine(outputDirectory, ReportFileName);
        AtomicFile.WriteAllText(report, RenderMarkdown(results, plots));
        written.Add(Path.GetFullPath(report));
        return written;
    }

    /// <summary>The plots the results support: curves of each metric measured during training, and final reward against KL.</summary>
    public static IReadOnlyList<ReportPlot> BuildPlots(ArenaResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var plots = new List<ReportPlot>();
        string band = "band: ± 1 standard deviation over seeds";
        var rewardLines = results.References.Select(r => new ReferenceLine(r.Name, r.Value)).ToList();

        AddCurvePlot(plots, results, "reward_curve.svg", "Reward during training",
            $"Mean true reward of one sampled response per test prompt, at the learning rate chosen on validation; {band}; dashed: reference levels.",
            "mean reward (sampled)", p => p.SampledReward, rewardLines);
        AddCurvePlot(plots, results, "greedy_reward_curve.svg", "Greedy reward during training",
            $"Mean true reward of the greedy response per test prompt; {band}.",
            "mean reward (greedy)", p => p.GreedyReward, rewardLines);
        AddCurvePlot(plots, results, "win_rate_curve.svg", "Win rate against SFT during training",
            $"Fraction of test prompts where the policy's sample beats the SFT sample (ties ½); {band}.",
            "win rate vs SFT", p => p.WinRateVsSft, [new ReferenceLine("parity (0.5)", 0.5)]);
        AddCurvePlot(plots, results, "kl_curve.svg", "KL(π‖π_ref) during training",
            $"Monte-Carlo sequence-level KL from samples of π on test prompts; {band}.",
            "KL (nats)", p => p.Kl, []);
        AddCurvePlot(plots, results, "loss_curve.svg", "Training loss",
            $"Training objective averaged between evaluations; {band}.",
            "loss", p => p.Loss, []);

        if (MainAlgorithms(results).Any(a => a.Seeds.Any(s => s.Final.Kl is double kl && double.IsFinite(kl))))
        {
            var scatter = new SvgPlot($"Reward against KL(π‖π_ref) ({results.Task})", "KL(π‖π_ref) (nats)", "mean reward (sampled)");
            foreach (var alg in MainAlgorithms(results))
            {
                var seeds = alg.Seeds.Where(s => s.Final.Kl is double kl && double.IsFinite(kl) && double.IsFinite(s.Final.SampledReward)).ToList();
                if (seeds.Count == 0) continue;
                var kl = ArenaStatistics.MeanAndStd(seeds.Select(s => s.Final.Kl!.Value).ToArray());
                var reward = ArenaStatistics.MeanAndStd(seeds.Select(s => s.Final.SampledReward).ToArray());
                scatter.Add(new PlotPoint(alg.Name, kl.Mean, reward.Mean)
                {
                    XError = seeds.Count > 1 ? kl.Std : null,
                    YError = seeds.Count > 1 ? reward.Std : null,
                });
            }
            foreach (var line in rewardLines) scatter.Add(line);
            plots.Add(new ReportPlot("reward_vs_kl.svg", "Reward against KL",
                "Test evaluation at the settings chosen on validation: mean over seeds; bars: ± 1 standard deviation over seeds. Up and to the left is better.", scatter));
        }

        var families = SweepFamilies(results);
        if (families.Count > 0)
        {
            var sweep = new SvgPlot($"Reward against KL across τ and β ({results.Task})", "KL(π‖π_ref) (nats)", "mean reward (sampled)");
            foreach (var (family, arms) in families)
            {
                var points = arms.Select(a => (Arm: a, Kl: Finals(a, f => f.Kl), Reward: Finals(a, f => f.SampledReward)))
                    .Where(p => p.Kl.Length > 0 && p.Reward.Length > 0).ToList();
                if (points.Count == 0) continue;
                var kl = points.Select(p => ArenaStatistics.MeanAndStd(p.Kl)).ToList();
                var reward = points.Select(p => ArenaStatistics.MeanAndStd(p.Reward)).ToList();
                sweep.Add(new PlotSeries(family, kl.Select(k => k.Mean).ToArray(), reward.Select(r => r.Mean).ToArray()) { Markers = false });
                for (int i = 0; i < points.Count; i++)
                    sweep.Add(new PlotPoint(RegularisationLabel(points[i].Arm), kl[i].Mean, reward[i].Mean)
                    {
                        Group = family,
                        XError = kl[i].Count > 1 ? kl[i].Std : null,
                        YError = reward[i].Count > 1 ? reward[i].Std : null,
                    });
            }
            foreach (var line in rewardLines) sweep.Add(line);
            plots.Add(new ReportPlot("reward_vs_kl_sweep.svg", "Reward against KL across τ (DRO) and β (KTO)",
                "Test evaluation of each regularisation strength at its settings chosen on validation: mean over seeds; bars: ± 1 standard deviation over seeds. Smaller τ or β lets the policy move further from π_ref.", sweep));
        }
        return plots;
    }

    public static string RenderMarkdown(ArenaResults results, IReadOnlyList<ReportPlot> plots)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(plots);
        var md = new StringBuilder();
        md.Append("# DroSharp arena: ").Append(Cell(results.Task)).Append("\n\n");
        if (!string.IsNullOrWhiteSpace(results.TaskDescription)) md.Append(results.TaskDescription.Trim()).Append("\n\n");
        if (!string.IsNullOrWhiteSpace(results.CreatedUtc)) md.Append("Run: ").Append(results.CreatedUtc).Append(" (UTC)\n\n");

        md.Append("## Results\n\n");
        int prompts = results.Algorithms.SelectMany(a => a.Seeds).Select(s => s.Final.Prompts).DefaultIfEmpty(0).Max();
        md.Append(Inv($"Test evaluation on {prompts} test prompts, each algorithm at the learning rate and step chosen on the validation prompts (see \"How settings were chosen\"). Each cell is the mean ± standard deviation over seeds; with a single seed, the value and its standard error over prompts where known. Win rate: the policy's sample against the SFT policy's sample on the same prompt, ties ½.\n\n"));
        md.Append("| algorithm | chosen on validation | seeds | reward (sampled) | reward (greedy) | win rate vs SFT | KL(π‖π_ref) |\n");
        md.Append("|---|---|---:|---:|---:|---:|---:|\n");
        foreach (var alg in MainAlgorithms(results))
        {
            var finals = alg.Seeds.Select(s => s.Final).ToList();
            md.Append("| ").Append(Cell(alg.Name))
              .Append(" | ").Append(SelectionReport.ChosenCell(alg))
              .Append(" | ").Append(finals.Count.ToString(CultureInfo.InvariantCulture))
              .Append(" | ").Append(Summary(finals.Select(f => (double?)f.SampledReward).ToList(), null, percent: false))
              .Append(" | ").Append(Summary(finals.Select(f => f.GreedyReward).ToList(), null, percent: false))
              .Append(" | ").Append(Summary(finals.Select(f => f.WinRateVsSft).ToList(), finals.Select(f => f.WinRateStandardError).ToList(), percent: true))
              .Append(" | ").Append(Summary(finals.Select(f => f.Kl).ToList(), finals.Select(f => f.KlStandardError).ToList(), percent: false))
              .Append(" |\n");
        }
        if (results.Algorithms.Count == 0) md.Append("| (no algorithms) | — | 0 | — | — | — | — |\n");
        md.Append('\n');
        if (MainAlgorithms(results).Any(a => a.Selection is not null && SelectionReport.OnEdge(a.Selection))) md.Append(SelectionReport.EdgeNote).Append("\n\n");
        if (results.References.Count > 0)
        {
            md.Append("Reference levels of the true reward: ")
              .Append(string.Join(" · ", results.References.Select(r => $"{Cell(r.Name)} {Number(r.Value)}")))
              .Append("\n\n");
        }
        var described = results.Algorithms.Where(a => !string.IsNullOrWhiteSpace(a.Description)).ToList();
        if (described.Count > 0)
        {
            md.Append("Algorithms: ").Append(string.Join("; ", described.Select(a => $"`{a.Name}` {Cell(a.Description!)}"))).Append(".\n\n");
        }
        SelectionReport.RenderFailures(md, results);
        RenderHeadToHead(md, results);
        RenderSweeps(md, results);
        RenderValueAblation(md, results);
        SelectionReport.RenderOptimum(md, results);
        SelectionReport.RenderSelection(md, results);

        if (plots.Count > 0)
        {
            md.Append("## Plots\n\n");
            foreach (var plot in plots)
            {
                md.Append("### ").Append(plot.Heading).Append("\n\n");
                md.Append("![").Append(plot.Heading).Append("](").Append(plot.FileName).Append(")\n\n");
                md.Append('_').Append(plot.Caption).Append("_\n\n");
            }
        }

        if (results.Settings.Count > 0)
        {
            md.Append("## Settings\n\n| setting | value |\n|---|---|\n");
            foreach (var (key, value) in results.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                md.Append("| ").Append(Cell(key)).Append(" | ").Append(Cell(value)).Append(" |\n");
            md.Append('\n');
        }

        if (results.Samples.Count > 0)
        {
            md.Append("## Sample completions\n\n| algorithm | prompt | completion | reward |\n|---|---|---|---:|\n");
            foreach (var s in results.Samples)
                md.Append("| ").Append(Cell(s.Algorithm)).Append(" | ").Append(Cell(s.Prompt)).Append(" | ").Append(Cell(s.Completion))
                  .Append(" | ").Append(Number(s.Reward)).Append(" |\n");
            md.Append('\n');
        }
        md.Append("Raw numbers: [").Append(ResultsJson.FileName).Append("](").Append(ResultsJson.FileName).Append(").\n");
        return md.ToString();
    }

    /// <summary>Algorithms of the main table and the curves: group null or "main".</summary>
    private static IEnumerable<AlgorithmResult> MainAlgorithms(ArenaResults results)
        => results.Algorithms.Where(a => a.Group is null or "main");

    /// <summary>
    /// Arms that differ only in τ or β, grouped (objective, value mode, KTO labels), each family sorted by
    /// strength; only families with at least two strengths and at least one arm of the "sweep" group.
    /// </summary>
    internal static List<(string Family, List<AlgorithmResult> Arms)> SweepFamilies(ArenaResults results)
    {
        var families = new List<(string, List<AlgorithmResult>)>();
        foreach (var g in results.Algorithms
                     .Where(a => a.Objective is not null && a.Regularisation is not null && (a.Group is null or "main" or "sweep"))
                     .GroupBy(a => (a.Objective, a.Value, a.KtoLabel, a.LearningRate)))
        {
            var arms = g.OrderBy(a => a.Regularisation).ToList();
            if (arms.Select(a => a.Regularisation).Distinct().Count() < 2 || !arms.Any(a => a.Group == "sweep")) continue;
            families.Add((FamilyName(arms[0]), arms));
        }
        return families;
    }

    private static string FamilyName(AlgorithmResult a) => a.Objective switch
    {
        "kto" => a.KtoLabel == "batch-mean" ? "KTO (batch-mean labels)" : "KTO (thumbs labels)",
        "dro-v" => a.Value is null or "per-example" ? "DRO-V" : $"DRO-V ({a.Value} value)",
        _ => a.Objective!.ToUpperInvariant(),
    };

    private static string RegularisationLabel(AlgorithmResult a)
        => (a.Objective == "kto" ? "β=" : "τ=") + a.Regularisation!.Value.ToString("0.###", CultureInfo.InvariantCulture);

    private static double[] Finals(AlgorithmResult a, Func<EvalMetrics, double?> metric)
        => a.Seeds.Select(s => metric(s.Final)).Where(v => v is double d && double.IsFinite(d)).Select(v => v!.Value).ToArray();

    private static void RenderHeadToHead(StringBuilder md, ArenaResults results)
    {
        if (results.HeadToHead.Count == 0) return;
        md.Append("## Head to head\n\n");
        md.Append("Win rate of the first algorithm's sample over the second's on the same test prompt (ties ½), each at its setting chosen on validation: mean ± standard deviation over seeds; with one seed, the standard error over prompts.\n\n");
        md.Append("| comparison | win rate | per seed |\n|---|---:|---|\n");
        foreach (var h in results.HeadToHead)
        {
            string perSeed = string.Join(", ", h.Seeds.Select(s => (100 * s.WinRate).ToString("0.0", CultureInfo.InvariantCulture) + "%"));
            md.Append("| ").Append(Cell(h.A)).Append(" vs ").Append(Cell(h.B)).Append(" | ")
              .Append(Summary(h.Seeds.Select(s => (double?)s.WinRate).ToList(), h.Seeds.Select(s => (double?)s.StandardError).ToList(), percent: true))
              .Append(" | ").Append(perSeed).Append(" |\n");
        }
        md.Append('\n');
    }

    private static void RenderSweeps(StringBuilder md, ArenaResults results)
    {
        var families = SweepFamilies(results);
        if (families.Count == 0) return;
        md.Append("## Regularisation: τ (DRO) and β (KTO)\n\n");
        md.Append("Each cell: test numbers, mean ± standard deviation over seeds, each strength at its own learning rate and step chosen on validation. See the plot `reward_vs_kl_sweep.svg` below.\n\n");
        foreach (var choice in results.StrengthChoices)
        {
            md.Append("**").Append(Cell(choice.Family)).Append("**: `").Append(Cell(choice.Chosen)).Append("` chosen by the ").Append(Cell(choice.Criterion)).Append(" (")
              .Append(string.Join(", ", choice.Candidates.Select(c => $"`{Cell(c.Name)}` {(100 * c.ValidationWinRate).ToString("0.0", CultureInfo.InvariantCulture)}%")))
              .Append(").\n\n");
        }
        foreach (var (family, arms) in families)
        {
            md.Append("### ").Append(family).Append("\n\n");
            md.Append("| strength | algorithm | win rate vs SFT | reward (sampled) | reward (greedy) | KL(π‖π_ref) |\n|---|---|---:|---:|---:|---:|\n");
            foreach (var a in arms) AppendMetricsRow(md, RegularisationLabel(a), a);
            md.Append('\n');
        }
    }

    private static void RenderValueAblation(StringBuilder md, ArenaResults results)
    {
        if (!results.Algorithms.Any(a => a.Group == "value")) return;
        var main = results.Algorithms.FirstOrDefault(a => a.Objective == "dro-v" && a.Group is null or "main" && a.Value is null or "per-example" && a.LearningRate is null);
        double? tau = main?.Regularisation;
        var arms = results.Algorithms.Where(a => a.Objective == "dro-v" && a.Regularisation == tau && a.LearningRate == main?.LearningRate && (a.Group is "value" || a == main)).ToList();
        AlgorithmResult? Find(string value) => arms.FirstOrDefault(a => (a.Value ?? "per-example") == value);
        string Cell2(AlgorithmResult? a) => a is null ? "—" : $"{Summary(a.Seeds.Select(s => s.Final.WinRateVsSft).ToList(), a.Seeds.Select(s => s.Final.WinRateStandardError).ToList(), percent: true)} (`{a.Name}`)";
        md.Append("## Value ablation (DRO-V)\n\n");
        md.Append("The paper's parameter-sharing ablation: test win rate against SFT, mean ± standard deviation over seeds, each variant at its own setting chosen on validation. ")
          .Append("Two networks: the value has its own copy of the policy's network (T5: the encoder; Llama: the decoder stack) with one value per example (`per-example`), or is one learned scalar (`single`); one network: a value head on the policy's own network (`shared`). ")
          .Append("A single scalar shares no parameters with the policy, so the one-network, one-value cell is the same model as the two-network one.\n\n");
        md.Append("| | one value per example | one value per batch |\n|---|---|---|\n");
        md.Append("| two networks | ").Append(Cell2(Find("per-example"))).Append(" | ").Append(Cell2(Find("single"))).Append(" |\n");
        md.Append("| one network | ").Append(Cell2(Find("shared"))).Append(" | (same as two networks) |\n\n");
        md.Append("| algorithm | win rate vs SFT | reward (sampled) | reward (greedy) | KL(π‖π_ref) |\n|---|---:|---:|---:|---:|\n");
        foreach (var a in arms) AppendMetricsRow(md, null, a);
        md.Append('\n');
    }

    private static void AppendMetricsRow(StringBuilder md, string? firstCell, AlgorithmResult a)
    {
        var finals = a.Seeds.Select(s => s.Final).ToList();
        md.Append("| ");
        if (firstCell is not null) md.Append(Cell(firstCell)).Append(" | ");
        md.Append(Cell(a.Name))
          .Append(" | ").Append(Summary(finals.Select(f => f.WinRateVsSft).ToList(), finals.Select(f => f.WinRateStandardError).ToList(), percent: true))
          .Append(" | ").Append(Summary(finals.Select(f => (double?)f.SampledReward).ToList(), null, percent: false))
          .Append(" | ").Append(Summary(finals.Select(f => f.GreedyReward).ToList(), null, percent: false))
          .Append(" | ").Append(Summary(finals.Select(f => f.Kl).ToList(), finals.Select(f => f.KlStandardError).ToList(), percent: false))
          .Append(" |\n");
    }

    private static void AddCurvePlot(List<ReportPlot> plots, ArenaResults results, string fileName, string heading, string caption,
        string yLabel, Func<CurvePoint, double?> metric, IReadOnlyList<ReferenceLine> references)
    {
        if (!MainAlgorithms(results).Any(a => a.Seeds.Any(s => s.Curve.Any(p => metric(p).HasValue)))) return;
        var plot = new SvgPlot($"{heading} ({results.Task})", "training step", yLabel);
        foreach (var alg in MainAlgorithms(results))
        {
            var steps = alg.Seeds.SelectMany(s => s.Curve).Where(p => metric(p).HasValue).Select(p => p.Step).Distinct().Order().ToArray();
            if (steps.Length == 0)
            {
                plot.Add(new PlotSeries(alg.Name, [], [])); // keeps the algorithm's colour and legend entry
                continue;
            }
            var mean = new double[steps.Length];
            var std = new double[steps.Length];
            bool anyBand = false;
            for (int i = 0; i < steps.Length; i++)
            {
                // Each seed contributes its value at this step (the last one if a step repeats).
                var values = alg.Seeds
                    .Select(s => s.Curve.LastOrDefault(p => p.Step == steps[i] && metric(p).HasValue))
                    .Where(p => p is not null)
                    .Select(p => metric(p!)!.Value)
                    .ToArray();
                var ms = ArenaStatistics.MeanAndStd(values);
                mean[i] = ms.Mean;
                std[i] = ms.Std;
                anyBand |= ms.Count > 1;
            }
            plot.Add(new PlotSeries(alg.Name, steps.Select(s => (double)s).ToArray(), mean) { Band = anyBand ? std : null });
        }
        foreach (var line in references) plot.Add(line);
        plots.Add(new ReportPlot(fileName, heading, caption, plot));
    }

    /// <summary>"m ± sd" over seeds; one seed: "v" or "v (s.e. e)"; missing: "—".</summary>
    private static string Summary(IReadOnlyList<double?> values, IReadOnlyList<double?>? standardErrors, bool percent)
    {
        var present = values.Where(v => v.HasValue).Select(v => v!.Value).ToArray();
        if (present.Length == 0) return "—";
        string Fmt(double v) => percent ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%" : Number(v);
        string FmtSpread(double v) => percent ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) : Number(v);
        string missing = present.Length < values.Count ? Inv($" ({present.Length} of {values.Count} seeds)") : "";
        if (present.Length == 1)
        {
            double? se = standardErrors?[Array.FindIndex(values.ToArray(), v => v.HasValue)];
            return se is double e && double.IsFinite(e) ? $"{Fmt(present[0])} (s.e. {FmtSpread(e)}){missing}" : Fmt(present[0]) + missing;
        }
        var ms = ArenaStatistics.MeanAndStd(present);
        return $"{Fmt(ms.Mean)} ± {FmtSpread(ms.Std)}{missing}";
    }

    private static string Number(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Text safe inside a markdown table cell: pipes escaped, line breaks flattened.</summary>
    private static string Cell(string text) => text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
