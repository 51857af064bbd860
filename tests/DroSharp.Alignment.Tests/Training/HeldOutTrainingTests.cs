using System.Text.Json;
using DroSharp.Alignment.Training;
using DroSharp.Models;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>The held-out signals, the warnings and the best checkpoint on real (tiny) training runs.</summary>
public sealed class HeldOutTrainingTests
{
    /// <summary>Labelled feedback of token ids: prompts [5 or 9, x]; a completion [c, EOS] is thumbs-up when c matches the prompt's kind.</summary>
    private static string Feedback(TrainerFixture fx, int prompts = 24)
    {
        var rng = new Random(3);
        return fx.WriteJsonl("feedback.jsonl", Enumerable.Range(0, prompts).SelectMany(i =>
        {
            bool a = i % 2 == 0;
            int[] prompt = [a ? 5 : 9, 20 + i];
            return Enumerable.Range(0, 3).Select(k =>
            {
                int c = 40 + rng.Next(6);
                return (object)new { prompt_ids = prompt, completion_ids = new[] { c, fx.Tokens.EosId }, label = (c % 2 == 0) == a };
            });
        }));
    }

    private static TrainingOptions Options(TrainerFixture fx, string run) => fx.Options(Feedback(fx), run) with
    {
        MaxSteps = 12, EvalFraction = 0.25, EvalEvery = 4, EvalSamples = 6, LogEvery = 2, LearningRate = 3e-3, SaveEvery = 0, WarmupSteps = null,
    };

    private static (TrainingResult Result, string Log) Train(TrainingOptions o, bool resume = false, Action<AlignmentTrainer>? setup = null, CancellationToken cancel = default)
    {
        var log = new StringWriter();
        using var t = new AlignmentTrainer(o, encoder: null, log);
        setup?.Invoke(t);
        var r = t.Train(resume, cancel);
        return (r, log.ToString());
    }

    private static List<HeldOutSample> Samples(RunDirectory run) =>
        File.ReadLines(Path.Combine(run.Path, "samples.jsonl")).Select(l => JsonSerializer.Deserialize<HeldOutSample>(l)!).ToList();

    [Fact]
    public void HeldOutSignalsAreLoggedWithTrlNamesAndMatchTheSamples()
    {
        using var fx = new TrainerFixture();
        var o = Options(fx, "run") with { SelectBy = "last" };
        Train(o);
        var run = new RunDirectory(o.Out);
        var lines = JsonlLog.ReadMetrics(run.MetricsFile);
        var evals = lines.Where(l => l.IsEvaluation).ToList();
        Assert.Equal([0L, 4, 8, 12], evals.Select(e => e.Step));
        string[] names = [HeldOutMetricNames.Kl, HeldOutMetricNames.EosRate, HeldOutMetricNames.MeanLength, HeldOutMetricNames.ClippedRatio,
                          HeldOutMetricNames.ReferenceEosRate, HeldOutMetricNames.ReferenceMeanLength, "eval_rewards/accuracies", "eval_loss"];
        foreach (var e in evals) foreach (string n in names) Assert.True(e.Get(n) is not null, $"step {e.Step} lacks {n}");
        // Step 0 is π_ref itself: KL exactly 0, accuracy exactly ½, its samples are the reference's.
        Assert.Equal(0.0, evals[0].Get(HeldOutMetricNames.Kl));
        Assert.Equal(0.5, evals[0].Get("eval_rewards/accuracies"));
        Assert.Equal(evals[0].Get(HeldOutMetricNames.MeanLength), evals[0].Get(HeldOutMetricNames.ReferenceMeanLength));
        Assert.All(evals, e => Assert.Equal(1 - e.Get(HeldOutMetricNames.EosRate)!.Value, e.Get(HeldOutMetricNames.ClippedRatio)!.Value, 12));
        Assert.NotEqual(0.0, evals[^1].Get(HeldOutMetricNames.Kl));
        // Every training line carries the running mean of the log-ratio.
        Assert.All(lines.Where(l => l.Get("loss") is not null && l.Get("eval_loss") is null), l => Assert.NotNull(l.Get(RunWarnings.RunningLogRatioName)));

        var samples = Samples(run);
        Assert.Equal(6, samples.Count(s => s.Source == HeldOutSample.Reference && s.Step == 0));
        foreach (var e in evals.Skip(1))
        {
            var at = samples.Where(s => s.Source == HeldOutSample.Policy && s.Step == e.Step).OrderBy(s => s.Index).ToList();
            Assert.Equal(6, at.Count);
            Assert.Equal(e.Get(HeldOutMetricNames.Kl)!.Value, at.Average(s => s.LogRatio), 12);
            Assert.Equal(e.Get(HeldOutMetricNames.EosRate)!.Value, at.Count(s => s.Finished) / 6.0, 12);
            Assert.Equal(e.Get(HeldOutMetricNames.MeanLength)!.Value, at.Average(s => s.CompletionIds.Length), 12);
        }

        // The last step's log-ratios, recomputed from the final policy and the reference directory.
        var last = samples.Where(s => s.Source == HeldOutSample.Policy && s.Step == 12).OrderBy(s => s.Index).ToList();
        using var policy = ModelFamilies.LoadPolicy(run.FinalDirectory);
        using var reference = ModelFamilies.LoadPolicy(fx.Model);
        var prompts = last.Select(s => s.PromptIds).ToList();
        var completions = last.Select(s => s.CompletionIds).ToList();
        var lp = policy.ScoreSequences(prompts, completions, 8);
        var lr = reference.ScoreSequences(prompts, completions, 8);
        for (int i = 0; i < last.Count; i++) Assert.Equal(lp[i] - lr[i], last[i].LogRatio, 4);

        using var health = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Path, "health.json")));
        Assert.Equal(4, health.RootElement.GetProperty("eval_every").GetInt32());
        Assert.Equal(2, health.RootElement.GetProperty("warmup_steps").GetInt32()); // ⌈0.1 × 12⌉
    }

    [Fact]
    public void AReferenceOtherThanTheStartingPolicyIsSampledAndScoredFromItsDirectory()
    {
        using var fx = new TrainerFixture();
        using var other = new TrainerFixture(seed: 11);
        var o = Options(fx, "run") with { Ref = other.Model, MaxSteps = 4, SelectBy = "last" };
        Train(o);
        var run = new RunDirectory(o.Out);
        var step0 = JsonlLog.ReadMetrics(run.MetricsFile).First(l => l.IsEvaluation);
        Assert.Equal(0, step0.Step);
        double kl0 = step0.Get(HeldOutMetricNames.Kl)!.Value;
        Assert.True(Math.Abs(kl0) > 1e-3, $"KL of the starting policy against another reference should not be 0, got {kl0}");
        var samples = Samples(run);
        var referenceIds = samples.Where(s => s.Source == HeldOutSample.Reference).OrderBy(s => s.Index).Select(s => s.CompletionIds).ToList();
        var policyIds = samples.Where(s => s.Source == HeldOutSample.Policy && s.Step == 0).OrderBy(s => s.Index).Select(s => s.CompletionIds).ToList();
        Assert.NotEqual(referenceIds.SelectMany(x => x), policyIds.SelectMany(x => x));
    }

    [Fact]
    public void FinalHoldsTheBestCheckpointAndRotationNeverDeletesIt()
    {
        using var fx = new TrainerFixture();
        // Lower KL is better: the first evaluation is the closest to π_ref at a high learning rate.
        // (A generous KL bound keeps every evaluation of this random-init policy healthy.)
        var o = Options(fx, "run") with { SelectBy = "eval_objective/kl", SaveEvery = 2, SaveTotalLimit = 1, LearningRate = 1e-2, KlBound = 1e3 };
        var (result, log) = Train(o);
        var run = new RunDirectory(o.Out);
        var evals = JsonlLog.ReadMetrics(run.MetricsFile).Where(l => l.IsEvaluation && l.Step > 0).ToList();
        long best = evals.OrderBy(e => e.Get(HeldOutMetricNames.Kl)).ThenBy(e => e.Step).First().Step;
        Assert.True(best < 12, $"the test needs a best step before the last; KL by step: {string.Join(", ", evals.Select(e => $"{e.Step}: {e.Get(HeldOutMetricNames.Kl)}"))}");

        using var selection = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Path, "selection.json")));
        Assert.Equal(best, selection.RootElement.GetProperty("final_step").GetInt64());
        Assert.Equal(12, selection.RootElement.GetProperty("last_step").GetInt64());
        Assert.Contains($"final/ is step {best} of 12", log);
        // Rotation kept the newest checkpoint and the best one only.
        Assert.Equal([best, 12L], run.Checkpoints().Select(c => c.Step));
        // final/ holds the best step's weights, not the last step's.
        byte[] finalWeights = File.ReadAllBytes(Path.Combine(run.FinalDirectory, "model.safetensors"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(run.CheckpointDirectory(best), "policy", "model.safetensors")), finalWeights);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(run.CheckpointDirectory(12), "policy", "model.safetensors")), finalWeights);
        Assert.True(File.Exists(Path.Combine(run.FinalDirectory, "value", "model.safetensors")));
    }

    [Fact]
    public void WithoutAHealthyEvaluationFinalIsTheOneClosestToPassing()
    {
        using var fx = new TrainerFixture();
        // At this learning rate KL leaves the default bound (max r − min r)/τ ≈ 2 nats at the first evaluation.
        var o = Options(fx, "run") with { SelectBy = "eval_loss", LearningRate = 1e-2 };
        var (_, log) = Train(o);
        var run = new RunDirectory(o.Out);
        using var selection = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.Out, "selection.json")));
        Assert.All(selection.RootElement.GetProperty("evaluations").EnumerateArray(), e => Assert.False(e.GetProperty("healthy").GetBoolean()));
        // With no healthy evaluation, final/ falls back on the one closest to passing: fewest failed checks, then smallest KL.
        using var health = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.Out, "health.json")));
        double bound = health.RootElement.GetProperty("kl_bound").GetDouble();
        int Failed(MetricsRecord e) =>
            (e.Get(HeldOutMetricNames.Kl) > bound ? 1 : 0)
            + (Math.Abs(e.Get(HeldOutMetricNames.MeanLength)!.Value / e.Get(HeldOutMetricNames.ReferenceMeanLength)!.Value - 1) > 0.4 ? 1 : 0)
            + (e.Get(HeldOutMetricNames.EosRate) < Math.Min(0.95, e.Get(HeldOutMetricNames.ReferenceEosRate)!.Value - 0.05) ? 1 : 0);
        var closest = JsonlLog.ReadMetrics(run.MetricsFile).Where(l => l.IsEvaluation && l.Step > 0)
            .OrderBy(Failed).ThenBy(e => e.Get(HeldOutMetricNames.Kl)).ThenBy(e => e.Step).First();
        Assert.Equal(closest.Step, selection.RootElement.GetProperty("final_step").GetInt64());
        Assert.True(selection.RootElement.GetProperty("no_healthy_evaluation").GetBoolean());
        Assert.Contains($"final/ is step {closest.Step} of 12: no evaluation passed the health checks", log);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run.CheckpointDirectory(closest.Step), "policy", "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(run.FinalDirectory, "model.safetensors")));
    }

    [Fact]
    public void AnInterruptedRunResumesTheSelectionAndEndsAsAnUninterruptedOne()
    {
        using var fx = new TrainerFixture();
        var a = Options(fx, "a") with { SelectBy = "eval_objective/kl", SaveEvery = 3, SaveTotalLimit = 1, LearningRate = 1e-2, KlBound = 1e3 };
        var b = a with { Out = fx.Path_("b") };
        Train(a);
        using (var cts = new CancellationTokenSource())
        {
            var (r, _) = Train(b, setup: t => t.StepCompleted += s => { if (s == 9) cts.Cancel(); }, cancel: cts.Token);
            Assert.True(r.Interrupted);
        }
        Train(b, resume: true);
        var ra = new RunDirectory(a.Out);
        var rb = new RunDirectory(b.Out);
        foreach (string file in new[] { "selection.json", "warnings.jsonl", "samples.jsonl" })
        {
            string fa = Path.Combine(ra.Path, file), fb = Path.Combine(rb.Path, file);
            Assert.Equal(File.Exists(fa), File.Exists(fb));
            if (File.Exists(fa)) Assert.Equal(File.ReadAllText(fa), File.ReadAllText(fb));
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(ra.FinalDirectory, "model.safetensors")), File.ReadAllBytes(Path.Combine(rb.FinalDirectory, "model.safetensors")));
        using var selection = JsonDocument.Parse(File.ReadAllText(Path.Combine(rb.Path, "selection.json")));
        long best = selection.RootElement.GetProperty("final_step").GetInt64();
        Assert.Contains(best, rb.Checkpoints().Select(c => c.Step));
    }

    [Fact]
    public void EarlyStopAfterPatienceEvaluationsWithoutImprovement()
    {
        using var fx = new TrainerFixture();
        // π_ref's mean sample length is the same at every evaluation: the first one stays the best.
        var o = Options(fx, "run") with { MaxSteps = 40, EvalEvery = 2, SelectBy = HeldOutMetricNames.ReferenceMeanLength, EarlyStopPatience = 2 };
        var (result, log) = Train(o);
        Assert.Equal(6, result.Steps);
        Assert.Contains("early stop at step 6", log);
        var run = new RunDirectory(o.Out);
        using var selection = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Path, "selection.json")));
        Assert.Equal(2, selection.RootElement.GetProperty("final_step").GetInt64());
        Assert.True(selection.RootElement.GetProperty("early_stopped").GetBoolean());
        Assert.Equal(6, JsonlLog.ReadMetrics(run.MetricsFile).Max(l => l.Step));
    }

    [Fact]
    public void StartChecksWarnOnStderrAndInWarningsJsonl()
    {
        using var fx = new TrainerFixture();
        // A random-init policy being aligned, with a warmup longer than the run.
        var o = Options(fx, "run") with { WarmupSteps = 150, MaxSteps = 4 };
        var (_, log) = Train(o);
        var warnings = File.ReadLines(Path.Combine(o.Out, "warnings.jsonl")).Select(l => JsonSerializer.Deserialize<RunWarning>(l)!).ToList();
        Assert.Contains(warnings, w => w.Code == RunWarning.WarmupTooLong && w.Value == 150 && w.Threshold == 2);
        Assert.Contains(warnings, w => w.Code == RunWarning.UntrainedPolicy && w.Value < w.Threshold);
        foreach (var w in warnings) Assert.Contains(w.ToString(), log);
        Assert.DoesNotContain("\\u", File.ReadAllText(Path.Combine(o.Out, "warnings.jsonl"))); // readable text, no \u escapes

        // SFT is how one trains a random model: no untrained-policy warning.
        var sft = Options(fx, "sft") with { Algo = "sft", MaxSteps = 4 };
        Train(sft);
        string sftWarnings = Path.Combine(sft.Out, "warnings.jsonl");
        Assert.False(File.Exists(sftWarnings) && File.ReadAllText(sftWarnings).Contains(RunWarning.UntrainedPolicy));
    }
}
