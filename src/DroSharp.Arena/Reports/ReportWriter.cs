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
            $"Mean true reward of one sampled response per held-out prompt; {band}; dashed: reference levels.",
            "mean reward (sampled)", p => p.SampledReward, rewardLines);
        AddCurvePlot(plots, results, "greedy_reward_curve.svg", "Greedy reward during training",
            $"Mean true reward of the greedy response per held-out prompt; {band}.",
            "mean reward (greedy)", p => p.GreedyReward, rewardLines);
        AddCurvePlot(plots, results, "win_rate_curve.svg", "Win rate against SFT during training",
            $"Fraction of held-out prompts where the policy's sample beats the SFT sample (ties ½); {band}.",
            "win rate vs SFT", p => p.WinRateVsSft, [new ReferenceLine("parity (0.5)", 0.5)]);
        AddCurvePlot(plots, results, "kl_curve.svg", "KL(π‖π_ref) during training",
            $"Monte-Carlo sequence-level KL from samples of π on held-out prompts; {band}.",
            "KL (nats)", p => p.Kl, []);
        AddCurvePlot(plots, results, "loss_curve.svg", "Training loss",
            $"Training objective averaged between evaluations; {band}.",
            "loss", p => p.Loss, []);

        if (results.Algorithms.Any(a => a.Seeds.Any(s => s.Final.Kl is double kl && double.IsFinite(kl))))
        {
            var scatter = new SvgPlot($"Reward against KL(π‖π_ref) ({results.Task})", "KL(π‖π_ref) (nats)", "mean reward (sampled)");
            foreach (var alg in results.Algorithms)
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
                "Final evaluation: mean over seeds; bars: ± 1 standard deviation over seeds. Up and to the left is better.", scatter));
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
        md.Append(Inv($"Final evaluation on {prompts} held-out prompts. Each cell is the mean ± standard deviation over seeds; with a single seed, the value and its standard error over prompts where known. Win rate: the policy's sample against the SFT policy's sample on the same prompt, ties ½.\n\n"));
        md.Append("| algorithm | seeds | reward (sampled) | reward (greedy) | win rate vs SFT | KL(π‖π_ref) |\n");
        md.Append("|---|---:|---:|---:|---:|---:|\n");
        foreach (var alg in results.Algorithms)
        {
            var finals = alg.Seeds.Select(s => s.Final).ToList();
            md.Append("| ").Append(Cell(alg.Name))
              .Append(" | ").Append(finals.Count.ToString(CultureInfo.InvariantCulture))
              .Append(" | ").Append(Summary(finals.Select(f => (double?)f.SampledReward).ToList(), null, percent: false))
              .Append(" | ").Append(Summary(finals.Select(f => f.GreedyReward).ToList(), null, percent: false))
              .Append(" | ").Append(Summary(finals.Select(f => f.WinRateVsSft).ToList(), finals.Select(f => f.WinRateStandardError).ToList(), percent: true))
              .Append(" | ").Append(Summary(finals.Select(f => f.Kl).ToList(), finals.Select(f => f.KlStandardError).ToList(), percent: false))
              .Append(" |\n");
        }
        if (results.Algorithms.Count == 0) md.Append("| (no algorithms) | 0 | — | — | — | — |\n");
        md.Append('\n');
        if (results.References.Count > 0)
        {
            md.Append("Reference levels of the true reward: ")
              .Append(string.Join(" · ", results.References.Select(r => $"{Cell(r.Name)} {Number(r.Value)}")))
              .Append("\n\n");
        }

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

    private static void AddCurvePlot(List<ReportPlot> plots, ArenaResults results, string fileName, string heading, string caption,
        string yLabel, Func<CurvePoint, double?> metric, IReadOnlyList<ReferenceLine> references)
    {
        if (!results.Algorithms.Any(a => a.Seeds.Any(s => s.Curve.Any(p => metric(p).HasValue)))) return;
        var plot = new SvgPlot($"{heading} ({results.Task})", "training step", yLabel);
        foreach (var alg in results.Algorithms)
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
