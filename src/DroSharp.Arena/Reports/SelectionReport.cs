using System.Globalization;
using System.Text;

namespace DroSharp.Arena.Reports;

/// <summary>
/// The report sections about how the reported numbers were chosen and what they are measured against: each
/// algorithm's selection grid on validation prompts, the runs that diverged, and the KL-regularised optimum π*.
/// </summary>
public static class SelectionReport
{
    /// <summary>Marks a choice on the edge of its grid: the last step, or the smallest or largest of several learning rates.</summary>
    public const string EdgeMark = "†";

    /// <summary>What <see cref="EdgeMark"/> means, for captions.</summary>
    public const string EdgeNote = "† the choice lies on the edge of the grid (the last step, or the smallest or largest learning rate): the best setting may lie outside it.";

    /// <summary>"LR 1e-4, step 200" for an arm with a selection (with <see cref="EdgeMark"/> on the grid's edge); "diverged" or "failed" when none was possible; "—" for the baseline.</summary>
    public static string ChosenCell(AlgorithmResult a)
    {
        if (a.Selection is null) return "—";
        if (a.Selection.LearningRate is double lr && a.Selection.Step is int step)
            return $"LR {Lr(lr)}, step {step.ToString(CultureInfo.InvariantCulture)}" + (OnEdge(a.Selection) ? " " + EdgeMark : "");
        return a.Failures.Any(f => f.Diverged) ? "diverged (see below)" : "failed (see below)";
    }

    /// <summary>True when the chosen step is the grid's last, or the chosen learning rate the smallest or largest of two or more.</summary>
    public static bool OnEdge(SelectionResult selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (selection.LearningRate is not double lr || selection.Step is not int step || selection.Grid.Count == 0) return false;
        var rates = selection.Grid.Select(g => g.LearningRate).Distinct().ToList();
        return step == selection.Grid.Max(g => g.Step) || (rates.Count > 1 && (lr == rates.Min() || lr == rates.Max()));
    }

    public static void RenderSelection(StringBuilder md, ArenaResults results)
    {
        var arms = results.Algorithms.Where(a => a.Selection is not null).ToList();
        if (arms.Count == 0) return;
        md.Append("## How settings were chosen\n\n");
        md.Append("Every algorithm was trained at each learning rate of its grid with a checkpoint at each step listed; every checkpoint was evaluated on the validation prompts, ")
          .Append("which are disjoint from the test prompts of every reported number. The choice, one per algorithm for all seeds: the ")
          .Append(Cell(arms[0].Selection!.Criterion)).Append(". Cells: validation win rate against SFT, mean ± standard deviation over seeds; **bold**: chosen; ")
          .Append("a cell some seed did not reach (its run diverged earlier) shows how many did and cannot be chosen.\n\n");
        foreach (var a in arms)
        {
            var sel = a.Selection!;
            var steps = sel.Grid.Select(g => g.Step).Distinct().Order().ToList();
            var lrs = sel.Grid.Select(g => g.LearningRate).Distinct().Order().ToList();
            md.Append("**").Append(Cell(a.Name)).Append("**: ");
            if (sel.LearningRate is double chosenLr && sel.Step is int chosenStep)
            {
                var g = sel.Grid.Single(p => p.LearningRate == chosenLr && p.Step == chosenStep);
                md.Append("chosen LR ").Append(Lr(chosenLr)).Append(", step ").Append(chosenStep.ToString(CultureInfo.InvariantCulture))
                  .Append(" (validation win rate ").Append(Percent(g.ValidationWinRate!.Value))
                  .Append(g.Seeds > 1 ? " ± " + Points(g.ValidationWinRateStd ?? 0) + " over " + g.Seeds.ToString(CultureInfo.InvariantCulture) + " seeds" : "").Append(").\n\n");
            }
            else
            {
                md.Append("no setting was reached by every seed (see the runs that diverged or could not start).\n\n");
            }
            if (steps.Count == 0) continue;
            md.Append("| LR \\ step | ").Append(string.Join(" | ", steps.Select(s => s.ToString(CultureInfo.InvariantCulture)))).Append(" |\n");
            md.Append("|---|").Append(string.Concat(steps.Select(_ => "---:|"))).Append('\n');
            foreach (double lr in lrs)
            {
                md.Append("| ").Append(Lr(lr));
                foreach (int s in steps)
                {
                    var g = sel.Grid.FirstOrDefault(p => p.LearningRate == lr && p.Step == s);
                    md.Append(" | ");
                    if (g?.ValidationWinRate is not double w) { md.Append("—"); continue; }
                    string text = g.Seeds > 1 ? $"{Percent(w)} ± {Points(g.ValidationWinRateStd ?? 0)}" : Percent(w);
                    if (!g.Eligible) text += $" (only {g.Seeds.ToString(CultureInfo.InvariantCulture)} seed{(g.Seeds == 1 ? "" : "s")})";
                    bool isChosen = sel.LearningRate == lr && sel.Step == s;
                    md.Append(isChosen ? "**" + text + "**" : text);
                }
                md.Append(" |\n");
            }
            md.Append('\n');
        }
    }

    public static void RenderFailures(StringBuilder md, ArenaResults results)
    {
        var failed = results.Algorithms.Where(a => a.Failures.Count > 0).ToList();
        if (failed.Count == 0) return;
        md.Append("## Runs that diverged or could not start\n\n");
        md.Append("A run whose loss or gradient stopped being finite was stopped and is listed here with its seed, learning rate and step (0: the run could not start); the experiment went on. ")
          .Append("The checkpoints a diverged run saved before that step remain candidates. An algorithm marked \"diverged\" or \"failed\" in the table above had no setting that every seed reached.\n\n");
        md.Append("| algorithm | seed | LR | step | what happened |\n|---|---:|---:|---:|---|\n");
        foreach (var a in failed)
            foreach (var d in a.Failures.OrderBy(d => d.Seed).ThenBy(d => d.LearningRate).ThenBy(d => d.Step))
                md.Append("| ").Append(Cell(a.Name)).Append(" | ").Append(d.Seed.ToString(CultureInfo.InvariantCulture)).Append(" | ").Append(Lr(d.LearningRate))
                  .Append(" | ").Append(d.Step.ToString(CultureInfo.InvariantCulture)).Append(" | ").Append(d.Diverged ? "diverged: " : "could not start: ").Append(Cell(Shorten(d.Message))).Append(" |\n");
        md.Append('\n');
    }

    /// <summary>
    /// π* per τ (mean ± std over seeds) beside every DRO-V arm trained at that τ: its test reward and KL, and the share
    /// of the way from π_ref to π* its reward covers, (R − R_ref)/(R* − R_ref), per seed then averaged.
    /// </summary>
    public static void RenderOptimum(StringBuilder md, ArenaResults results)
    {
        if (results.Optimum.Count == 0) return;
        var first = results.Optimum[0];
        md.Append("## The KL-regularised optimum π*\n\n");
        md.Append(Inv($"DRO-V's target (Theorem 1) is π*(y|x) ∝ π_ref(y|x)·exp(ρ(x, y)/τ), with ρ what the trainer sees: the rater's expected rating, z-normalised as the trainer normalises the feedback. "))
          .Append(Inv($"Estimated per seed on the {first.Prompts} test prompts from {first.SamplesPerPrompt} samples of π_ref per prompt, reweighted by e^{{ρ/τ}} (self-normalised importance sampling). "))
          .Append("Mean ± standard deviation over seeds; \"MC s.e.\" is the Monte-Carlo standard error of one seed's estimate; ESS is the effective sample size of the weights per prompt (mean, and the smallest over prompts and seeds). ")
          .Append("\"Share of the way\" is (R − R_ref)/(R* − R_ref) per seed, R the run's test reward, R_ref π_ref's reward on the same samples as the estimate.\n\n");
        md.Append("| τ | policy | reward (sampled) | KL(π‖π_ref) | share of the way to π* | MC s.e. | ESS |\n|---:|---|---:|---:|---:|---:|---:|\n");
        foreach (var group in results.Optimum.GroupBy(o => o.Tau).OrderBy(g => g.Key))
        {
            var estimates = group.ToList();
            string tau = group.Key.ToString("0.###", CultureInfo.InvariantCulture);
            md.Append("| ").Append(tau).Append(" | π* (estimate) | ").Append(Spread(estimates.Select(e => e.ExpectedReward)))
              .Append(" | ").Append(Spread(estimates.Select(e => e.Kl))).Append(" | 100% | ")
              .Append(Number(estimates.Average(e => e.StandardError))).Append(" | ")
              .Append(estimates.Average(e => e.MeanEffectiveSampleSize).ToString("0.0", CultureInfo.InvariantCulture))
              .Append(" (min ").Append(estimates.Min(e => e.MinEffectiveSampleSize).ToString("0.0", CultureInfo.InvariantCulture)).Append(") |\n");
            md.Append("| ").Append(tau).Append(" | π_ref | ").Append(Spread(estimates.Select(e => e.ReferenceReward))).Append(" | 0 | 0% | | |\n");
            foreach (var arm in results.Algorithms.Where(a => a.Objective == "dro-v" && a.Regularisation == group.Key && a.Seeds.Count > 0))
            {
                var shares = new List<double>();
                foreach (var s in arm.Seeds)
                {
                    var e = estimates.FirstOrDefault(x => x.Seed == s.Seed);
                    if (e is null || Math.Abs(e.ExpectedReward - e.ReferenceReward) < 1e-12) continue;
                    shares.Add((s.Final.SampledReward - e.ReferenceReward) / (e.ExpectedReward - e.ReferenceReward));
                }
                md.Append("| ").Append(tau).Append(" | `").Append(Cell(arm.Name)).Append("` | ").Append(Spread(arm.Seeds.Select(s => s.Final.SampledReward)))
                  .Append(" | ").Append(Spread(arm.Seeds.Where(s => s.Final.Kl is not null).Select(s => s.Final.Kl!.Value)))
                  .Append(" | ").Append(shares.Count == 0 ? "—" : SpreadPercent(shares)).Append(" | | |\n");
            }
        }
        md.Append('\n');
    }

    private static string Spread(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0) return "—";
        var ms = ArenaStatistics.MeanAndStd(v);
        return v.Length == 1 ? Number(ms.Mean) : $"{Number(ms.Mean)} ± {Number(ms.Std)}";
    }

    private static string SpreadPercent(IReadOnlyList<double> values)
    {
        var ms = ArenaStatistics.MeanAndStd(values);
        return values.Count == 1 ? Percent(ms.Mean) : $"{Percent(ms.Mean)} ± {Points(ms.Std)}";
    }

    /// <summary>A learning rate as the report writes it: 1e-4, 3e-5, 1e+30.</summary>
    public static string Lr(double lr) => lr.ToString("0.###e+0", CultureInfo.InvariantCulture);

    private static string Percent(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Points(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture);

    private static string Number(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

    private static string Shorten(string message) => message.Length <= 160 ? message : message[..157] + "…";

    private static string Cell(string text) => text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
