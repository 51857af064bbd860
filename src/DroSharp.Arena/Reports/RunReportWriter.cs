using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DroSharp.Alignment.Training;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Arena.Reports;

/// <summary>
/// <c>dro report RUN</c>: one self-contained HTML page (inline SVG plots, no scripts, no external files) of
/// any training run — the warnings that fired, the training curves (loss, residual, log-ratio, value,
/// learning rates, gradient norms), the held-out signals over steps (implicit-reward accuracy, KL, EOS
/// rate, lengths against π_ref's), every other logged metric, sample completions of π_ref and of the
/// policy <c>final/</c> holds side by side, and the run's options. Panels whose metrics the run did not
/// log are left out; a warning is drawn as a point on its panel at the step it fired.
/// </summary>
public static class RunReportWriter
{
    public const string FileName = "report.html";

    /// <summary>One panel: the metrics it draws (training and held-out variants), its labels, and the warnings shown on it.</summary>
    private sealed record Panel(string Id, string Title, string YLabel, string Caption, string[] Metrics, string[] WarningCodes);

    private static readonly Panel[] Panels =
    [
        new("loss", "Loss", "loss", "The objective on training batches (mean since the previous logged step) and on the held-out split.", ["loss", "eval_loss"], [RunWarning.LossHigh]),
        new("residual", "DRO residual", "r − V − τ·log π/π_ref", "Mean residual of the DRO loss; near 0 at the fixed point.", ["residual/mean", "eval_residual/mean"], []),
        new("logratio", "Log-ratio on the data", "log π − log π_ref (nats)", "Policy against reference on the feedback's own completions; the running mean is what the drift warning reads.", ["logratio/mean", RunWarnings.RunningLogRatioName, "eval_logratio/mean"], [RunWarning.LogRatioDrift]),
        new("value", "Value", "V(x)", "Mean value estimate of the DRO value network.", ["value/mean", "eval_value/mean"], []),
        new("learning-rate", "Learning rate", "learning rate", "After warmup and schedule, per network.", ["learning_rate", "value/learning_rate"], []),
        new("grad-norm", "Gradient norms", "global norm (before clipping)", "Global gradient norm per network.", ["grad_norm", "value/grad_norm"], [RunWarning.GradientVanished]),
        new("accuracy", "Implicit-reward accuracy (held out)", "accuracy", "Fraction of (thumbs-up, thumbs-down) held-out pairs that τ·log π/π_ref ranks correctly (ties ½); 0.5 at π_ref.", [CheckpointSelector.AccuracyMetric, "rewards/accuracies"], []),
        new("kl", "KL(π‖π_ref) on held-out samples", "KL (nats)", "Mean of log π − log π_ref over the policy's own samples on held-out prompts.", [HeldOutMetricNames.Kl], [RunWarning.KlHigh]),
        new("eos", "EOS rate (held out)", "fraction ending with EOS", "Samples that end with end-of-sequence before the token limit.", [HeldOutMetricNames.EosRate], [RunWarning.EosRateLow]),
        new("length", "Sample length (held out)", "tokens", "Mean sampled tokens of the policy; dashed: π_ref's on the same prompts and seeds.", [HeldOutMetricNames.MeanLength], [RunWarning.LengthChanged]),
    ];

    /// <summary>Metrics never plotted (bookkeeping, or shown in another panel as a reference line).</summary>
    private static readonly HashSet<string> NotPlotted = new(StringComparer.Ordinal)
    {
        "epoch", HeldOutMetricNames.ReferenceEosRate, HeldOutMetricNames.ReferenceMeanLength,
    };

    /// <summary>Reads <paramref name="runDirectory"/>, writes the page (atomically) to <paramref name="outputPath"/> (default RUN/report.html) and returns its path.</summary>
    public static string Write(string runDirectory, Func<int[], string>? decode, string? outputPath = null)
    {
        var report = RunReport.Load(runDirectory);
        string path = Path.GetFullPath(outputPath ?? Path.Combine(report.Directory, FileName));
        AtomicFile.WriteAllText(path, Render(report, decode));
        return path;
    }

    /// <summary>The ids of the panels a report draws (fixed panels with data, then one per other metric).</summary>
    public static IReadOnlyList<string> PanelIds(RunReport report) => BuildPlots(report).Select(p => p.Id).ToList();

    public static string Render(RunReport report, Func<int[], string>? decode)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        string name = Path.GetFileName(report.Directory.TrimEnd(Path.DirectorySeparatorChar));
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<title>dro report: ").Append(H(name)).Append("</title>\n");
        sb.Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>Training run <code>").Append(H(name)).Append("</code></h1>\n");
        AppendSummary(sb, report);
        AppendWarnings(sb, report);

        var plots = BuildPlots(report);
        sb.Append("<h2 id=\"curves\">Curves</h2>\n<div class=\"plots\">\n");
        foreach (var (id, caption, plot) in plots)
        {
            sb.Append("<figure id=\"plot-").Append(H(id)).Append("\">\n");
            sb.Append(InlineSvg(plot.ToSvg()));
            sb.Append("<figcaption>").Append(H(caption)).Append("</figcaption>\n</figure>\n");
        }
        sb.Append("</div>\n");
        AppendSamples(sb, report, decode);
        AppendOptions(sb, report);
        sb.Append("<p class=\"foot\">Written by <code>dro report</code> from ").Append(H(report.Directory)).Append(".</p>\n");
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    // ---------------------------------------------------------------- sections

    private static void AppendSummary(StringBuilder sb, RunReport r)
    {
        var last = r.Metrics.Count > 0 ? r.Metrics.Max(m => m.Step) : 0;
        string total = RunReport.Number(r.Health, "total_steps") is double t ? I($"{t:0}") : "?";
        sb.Append("<table class=\"summary\">\n");
        Row(sb, "algorithm", r.Option("algo"));
        Row(sb, "policy (start)", r.Option("model"));
        Row(sb, "reference π_ref", r.Option("ref") ?? r.Option("model"));
        Row(sb, "data", r.Option("data") + (r.Option("eval_data") is { } ed ? $" (held out: {ed})" : r.Option("eval_fraction") is { } ef ? $" (held out: {ef} of the prompts)" : " (no held-out split)"));
        Row(sb, "steps", I($"{last} logged of {total}") + (RunReport.Number(r.Health, "warmup_steps") is double w ? I($"; warmup {w:0}") : "") +
                         (RunReport.Number(r.Health, "eval_every") is double e && e > 0 ? I($"; evaluated every {e:0}") : ""));
        string? finalText = null;
        if (r.Selection is not null)
        {
            long fs = (long)(RunReport.Number(r.Selection, "final_step") ?? last);
            string metric = r.Selection.TryGetValue("select_by", out var m) ? m.ToString() : "?";
            finalText = I($"step {fs}") + (metric == CheckpointSelector.Last ? " (the last step)" : $", best {metric} = {Fmt(RunReport.Number(r.Selection, "best_value"))} (π_ref {Fmt(RunReport.Number(r.Selection, "reference_value"))})");
            if (r.Selection.TryGetValue("early_stopped", out var es) && es.ValueKind == JsonValueKind.True) finalText += "; stopped early";
        }
        Row(sb, "final/", finalText ?? "the last step");
        Row(sb, "warnings", r.Warnings.Count == 0 ? "none" : I($"{r.Warnings.Count} (below)"));
        sb.Append("</table>\n");
    }

    private static void AppendWarnings(StringBuilder sb, RunReport r)
    {
        sb.Append("<h2 id=\"warnings\">Warnings</h2>\n");
        if (r.Warnings.Count == 0)
        {
            sb.Append("<p class=\"ok\">No warning fired.</p>\n");
            return;
        }
        sb.Append("<table class=\"warnings\">\n<tr><th>step</th><th>check</th><th>value</th><th>threshold</th><th>message</th></tr>\n");
        foreach (var w in r.Warnings)
            sb.Append(I($"<tr><td>{w.Step}</td><td><code>{H(w.Code)}</code></td><td>{Fmt(w.Value)}</td><td>{Fmt(w.Threshold)}</td><td>{H(w.Message)}</td></tr>\n"));
        sb.Append("</table>\n");
    }

    private static void AppendSamples(StringBuilder sb, RunReport r, Func<int[], string>? decode, int count = 8)
    {
        sb.Append("<h2 id=\"samples\">Samples on held-out prompts</h2>\n");
        var reference = r.Samples.Where(s => s.Source == HeldOutSample.Reference).GroupBy(s => s.Index).ToDictionary(g => g.Key, g => g.Last());
        var policySteps = r.Samples.Where(s => s.Source == HeldOutSample.Policy).Select(s => s.Step).Distinct().ToList();
        if (reference.Count == 0 || policySteps.Count == 0)
        {
            sb.Append("<p>No samples: the run had no held-out split, or <code>--eval-samples 0</code>.</p>\n");
            return;
        }
        long step = r.FinalStep is long f && policySteps.Contains(f) ? f : policySteps.Max();
        var policy = r.Samples.Where(s => s.Source == HeldOutSample.Policy && s.Step == step).GroupBy(s => s.Index).ToDictionary(g => g.Key, g => g.Last());
        sb.Append(I($"<p>One sample per prompt at temperature 1 with the same seeds for both policies; the policy is step {step} (what <code>final/</code> holds). "))
          .Append(decode is null ? "Token ids (the run's model has no tokenizer.json)." : "Decoded with the model's tokenizer.")
          .Append(" log π/π_ref is the sample's sequence log-ratio.</p>\n");
        sb.Append("<table class=\"samples\">\n<tr><th>#</th><th>prompt</th><th>π_ref</th><th>final policy</th><th>log π/π_ref</th></tr>\n");
        foreach (int i in reference.Keys.Where(policy.ContainsKey).OrderBy(i => i).Take(count))
        {
            var a = reference[i];
            var b = policy[i];
            sb.Append(I($"<tr><td>{i}</td><td>{H(Text(a.PromptIds, decode))}</td><td>{H(Text(a.CompletionIds, decode))}{Cut(a)}</td>"))
              .Append(I($"<td>{H(Text(b.CompletionIds, decode))}{Cut(b)}</td><td>{Fmt(b.LogRatio)}</td></tr>\n"));
        }
        sb.Append("</table>\n");
    }

    private static void AppendOptions(StringBuilder sb, RunReport r)
    {
        sb.Append("<h2 id=\"options\">Options (run.json)</h2>\n<details><summary>every option of the run</summary>\n<table class=\"options\">\n");
        foreach (var (k, v) in r.Options.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            Row(sb, k, v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText());
        sb.Append("</table>\n</details>\n");
    }

    // ---------------------------------------------------------------- plots

    private static List<(string Id, string Caption, SvgPlot Plot)> BuildPlots(RunReport r)
    {
        var plots = new List<(string, string, SvgPlot)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in Panels)
        {
            var plot = new SvgPlot(panel.Title, "step", panel.YLabel) { Width = 640, Height = 360 };
            foreach (string m in panel.Metrics)
                if (Series(r, m) is { } s) { plot.Add(s); used.Add(m); }
            if (plot.Series.Count == 0) continue;
            AddReferenceLines(r, panel, plot);
            AddFinalStep(r, plot);
            AddWarnings(r, panel, plot);
            plots.Add((panel.Id, panel.Caption, plot));
        }
        // Every other metric, its training and held-out variants together.
        var others = r.Metrics.SelectMany(m => m.Values.Keys).Distinct()
            .Where(k => !used.Contains(k) && !NotPlotted.Contains(k))
            .Select(k => k.StartsWith("eval_", StringComparison.Ordinal) ? k[5..] : k).Distinct().OrderBy(k => k, StringComparer.Ordinal);
        foreach (string baseName in others)
        {
            var plot = new SvgPlot(baseName, "step", baseName) { Width = 640, Height = 360 };
            foreach (string m in new[] { baseName, "eval_" + baseName })
                if (!used.Contains(m) && Series(r, m) is { } s) plot.Add(s);
            if (plot.Series.Count == 0) continue;
            AddFinalStep(r, plot);
            plots.Add(("metric-" + Slug(baseName), $"{baseName} as logged (training batches; eval_{baseName} on the held-out split).", plot));
        }
        return plots;
    }

    private static PlotSeries? Series(RunReport r, string metric)
    {
        var pts = r.Metrics.Where(m => m.Get(metric) is not null).Select(m => (X: (double)m.Step, Y: m.Get(metric)!.Value)).ToList();
        if (pts.Count == 0) return null;
        string label = metric.StartsWith("eval_", StringComparison.Ordinal) ? "held out: " + metric[5..] : metric;
        return new PlotSeries(label, pts.Select(p => p.X).ToList(), pts.Select(p => p.Y).ToList())
        {
            Markers = metric.StartsWith("eval_", StringComparison.Ordinal),
            Dashed = metric == RunWarnings.RunningLogRatioName,
        };
    }

    private static void AddReferenceLines(RunReport r, Panel panel, SvgPlot plot)
    {
        double? First(string metric) => r.Metrics.Select(m => m.Get(metric)).FirstOrDefault(v => v is not null);
        switch (panel.Id)
        {
            case "logratio" when RunReport.Number(r.Health, "logratio_floor") is double floor:
                plot.Add(new ReferenceLine("drift threshold", floor));
                break;
            case "accuracy":
                plot.Add(new ReferenceLine("π_ref (0.5)", 0.5));
                break;
            case "kl" when RunReport.Number(r.Health, "kl_bound") is double bound:
                plot.Add(new ReferenceLine("KL bound", bound));
                break;
            case "eos":
                if (First(HeldOutMetricNames.ReferenceEosRate) is double refEos) plot.Add(new ReferenceLine("π_ref", refEos));
                if (RunReport.Number(r.Health, "eos_rate_floor") is double eosFloor) plot.Add(new ReferenceLine("threshold", eosFloor));
                break;
            case "length" when First(HeldOutMetricNames.ReferenceMeanLength) is double refLen:
                plot.Add(new ReferenceLine("π_ref", refLen));
                break;
        }
    }

    /// <summary>The step final/ holds, marked on the selection metric's panel (or on every panel with held-out series).</summary>
    private static void AddFinalStep(RunReport r, SvgPlot plot)
    {
        if (r.Selection is null || !r.Selection.TryGetValue("select_by", out var sel) || sel.ValueKind != JsonValueKind.String) return;
        string metric = sel.GetString()!;
        if (RunReport.Number(r.Selection, "final_step") is not double step) return;
        string label = metric.StartsWith("eval_", StringComparison.Ordinal) ? "held out: " + metric[5..] : metric;
        var series = plot.Series.FirstOrDefault(s => s.Name == label);
        if (series is null) return;
        for (int i = 0; i < series.X.Count; i++)
            if (series.X[i] == step)
                plot.Add(new PlotPoint(I($"final/ = step {step:0}"), step, series.Y[i]) { Group = "final/" });
    }

    private static void AddWarnings(RunReport r, Panel panel, SvgPlot plot)
    {
        foreach (var w in r.Warnings.Where(w => panel.WarningCodes.Contains(w.Code)))
        {
            // The warning's own number when it is in the panel's units, else the panel's first series at that step.
            double? y = w.Code == RunWarning.LengthChanged ? null : w.Value;
            if (y is null)
            {
                var s = plot.Series[0];
                for (int i = 0; i < s.X.Count; i++) if (s.X[i] == w.Step) y = s.Y[i];
            }
            if (y is double v && double.IsFinite(v)) plot.Add(new PlotPoint("⚠ " + w.Code, w.Step, v) { Group = "warning" });
        }
    }

    // ---------------------------------------------------------------- helpers

    private static string Text(int[] ids, Func<int[], string>? decode)
    {
        if (decode is null) return "[" + string.Join(' ', ids) + "]";
        try { return decode(ids); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException) { return "[" + string.Join(' ', ids) + "]"; }
    }

    private static string Cut(HeldOutSample s) => s.Finished ? "" : " <span class=\"cut\">(cut at the token limit)</span>";

    /// <summary>The SVG without its XML declaration, for inline use.</summary>
    private static string InlineSvg(string svg)
    {
        int start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start > 0 ? svg[start..] : svg;
    }

    private static void Row(StringBuilder sb, string key, string? value) =>
        sb.Append("<tr><th>").Append(H(key)).Append("</th><td>").Append(H(value ?? "")).Append("</td></tr>\n");

    private static string Slug(string name) => new(name.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray());

    private static string H(string text) => WebUtility.HtmlEncode(text);

    private static string Fmt(double? v) => v is double x ? x.ToString("0.####", CultureInfo.InvariantCulture) : "n/a";

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private const string Css = """
        body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1440px; color: #222; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }
        table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
        th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
        table.summary th, table.options th { background: #f6f6f6; white-space: nowrap; }
        table.warnings td:first-child, table.warnings td:nth-child(3), table.warnings td:nth-child(4) { text-align: right; white-space: nowrap; }
        table.warnings tr:nth-child(n+2) { background: #fff4e5; }
        table.samples td { max-width: 420px; word-wrap: break-word; font-family: Menlo, Consolas, monospace; font-size: 12px; }
        .plots { display: flex; flex-wrap: wrap; gap: 12px; }
        figure { margin: 0; border: 1px solid #eee; padding: 4px; }
        figcaption { font-size: 12px; color: #555; max-width: 640px; padding: 2px 4px 6px; }
        .ok { color: #1a7f37; } .cut { color: #b35900; font-style: italic; } .foot { color: #888; font-size: 12px; margin-top: 32px; }

        """;
}
