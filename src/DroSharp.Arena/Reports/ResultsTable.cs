using System.Globalization;
using System.Text;

namespace DroSharp.Arena.Reports;

/// <summary>The results as aligned plain-text tables for a terminal: every algorithm (test numbers at its setting chosen on validation), then the head-to-head comparisons.</summary>
public static class ResultsTable
{
    public static string Render(ArenaResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        int seeds = results.Algorithms.Select(a => a.Seeds.Count).DefaultIfEmpty(0).Max();
        int prompts = results.Algorithms.SelectMany(a => a.Seeds).Select(s => s.Final.Prompts).DefaultIfEmpty(0).Max();
        var rows = new List<string[]> { new[] { "algorithm", "chosen on validation", "win rate vs SFT", "reward (sampled)", "reward (greedy)", "KL(π‖π_ref)" } };
        foreach (var a in results.Algorithms)
        {
            var f = a.Seeds.Select(s => s.Final).ToList();
            rows.Add([
                a.Name,
                SelectionReport.ChosenCell(a),
                Cell(f.Select(x => x.WinRateVsSft).ToList(), f.Select(x => x.WinRateStandardError).ToList(), percent: true),
                Cell(f.Select(x => (double?)x.SampledReward).ToList(), null, percent: false),
                Cell(f.Select(x => x.GreedyReward).ToList(), null, percent: false),
                Cell(f.Select(x => x.Kl).ToList(), f.Select(x => x.KlStandardError).ToList(), percent: false),
            ]);
        }
        var sb = new StringBuilder();
        string spread = seeds > 1 ? "mean ± std over seeds" : "± standard error over prompts";
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"{results.Task}: {prompts} test prompts, {seeds} seed(s); {spread}; learning rate and step chosen on the validation prompts\n"));
        AppendTable(sb, rows);
        if (results.HeadToHead.Count > 0)
        {
            sb.Append('\n');
            var h2h = new List<string[]> { new[] { "head to head", "win rate" } };
            foreach (var h in results.HeadToHead)
                h2h.Add([$"{h.A} vs {h.B}", Cell(h.Seeds.Select(s => (double?)s.WinRate).ToList(), h.Seeds.Select(s => (double?)s.StandardError).ToList(), percent: true)]);
            AppendTable(sb, h2h);
        }
        var demo = results.References.FirstOrDefault(r => r.Name == "demonstrations");
        if (demo is not null) sb.Append(string.Create(CultureInfo.InvariantCulture, $"\nmean reward of the demonstrations: {demo.Value:0.000}\n"));
        return sb.ToString();
    }

    private static void AppendTable(StringBuilder sb, List<string[]> rows)
    {
        int columns = rows[0].Length;
        var widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => r[c].Length)).ToArray();
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                if (c > 0) sb.Append("  ");
                sb.Append(c == 0 ? rows[r][c].PadRight(widths[c]) : rows[r][c].PadLeft(widths[c]));
            }
            sb.Append('\n');
            if (r == 0) sb.Append(new string('-', widths.Sum() + 2 * (columns - 1))).Append('\n');
        }
    }

    /// <summary>"m ± sd" over seeds; one seed: "v ± se" when a standard error is known; "—" when missing.</summary>
    private static string Cell(IReadOnlyList<double?> values, IReadOnlyList<double?>? errors, bool percent)
    {
        var present = values.Where(v => v is double d && double.IsFinite(d)).Select(v => v!.Value).ToArray();
        if (present.Length == 0) return "—";
        string F(double v) => percent ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%" : v.ToString("0.000", CultureInfo.InvariantCulture);
        string S(double v) => percent ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) : v.ToString("0.000", CultureInfo.InvariantCulture);
        if (present.Length == 1)
        {
            int i = values.ToList().FindIndex(v => v.HasValue);
            return errors?[i] is double e && double.IsFinite(e) ? $"{F(present[0])} ± {S(e)}" : F(present[0]);
        }
        var ms = ArenaStatistics.MeanAndStd(present);
        return $"{F(ms.Mean)} ± {S(ms.Std)}";
    }
}
