using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;
using DroSharp.Models;
using DroSharp.Models.Checkpoints;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>
/// Issue 15, the trainer's share: one writer per run directory, resumes bound to their inputs, signals that stop
/// within a step or the reference pass, leftovers of a dead writer, corrupt checkpoints, extreme rewards. Each test
/// failed before its fix.
/// </summary>
public sealed class RunSafetyTests
{
    private static TrainingResult Train(TrainingOptions o, bool resume = false, CancellationToken cancel = default, TextWriter? log = null, bool allowChanged = false)
    {
        using var t = new AlignmentTrainer(o, encoder: null, log ?? TextWriter.Null) { AllowChangedInputs = allowChanged };
        return t.Train(resume, cancel);
    }

    /// <summary>Trains to step <paramref name="stopAt"/> (a checkpoint every step) and returns there, interrupted.</summary>
    private static void TrainUntil(TrainingOptions o, long stopAt)
    {
        using var cts = new CancellationTokenSource();
        using var t = new AlignmentTrainer(o, encoder: null, TextWriter.Null);
        t.StepCompleted += s => { if (s == stopAt) cts.Cancel(); };
        Assert.True(t.Train(resume: false, cts.Token).Interrupted);
    }

    private static byte[] FinalWeights(TrainingOptions o) => File.ReadAllBytes(Path.Combine(o.Out, "final", "model.safetensors"));

    // ---------------------------------------------------------------- 1. one writer

    [Fact]
    public void ASecondTrainerOnABusyRunDirectoryIsRefusedAndTheFirstFinishes()
    {
        using var fx = new TrainerFixture();
        var o = fx.Options(fx.PromptDependentRewards(), "run") with { MaxSteps = 3 };
        TrainingException? refused = null;
        using (var first = new AlignmentTrainer(o, encoder: null, TextWriter.Null))
        {
            first.StepCompleted += s =>
            {
                if (s != 1) return;
                using var second = new AlignmentTrainer(o with { Seed = 99 }, encoder: null, TextWriter.Null);
                refused = Assert.Throws<TrainingException>(() => second.Train(resume: true, CancellationToken.None));
            };
            Assert.False(first.Train(resume: false, CancellationToken.None).Interrupted);
        }
        Assert.NotNull(refused);
        Assert.Contains("in use", refused!.Message);
        Assert.Contains(o.Out, refused.Message);
        // run.json names the first run's seed, and every metrics line is whole JSON of that run.
        Assert.Equal(7UL, TrainingOptions.FromJson(File.ReadAllText(new RunDirectory(o.Out).OptionsFile), "run.json").Seed);
        Assert.Equal([1L, 2, 3], TrainerFixture.Metrics(new RunDirectory(o.Out)).Select(m => m["step"].GetInt64()));
        // Released with the trainer: the directory can be used again.
        using var again = new AlignmentTrainer(o, encoder: null, TextWriter.Null);
        Assert.Throws<TrainingException>(() => again.Train(resume: false, CancellationToken.None)); // "already holds a run", not "in use"
    }

    // ---------------------------------------------------------------- 2. resume bound to its inputs

    [Fact]
    public void RunJsonStoresAbsolutePathsAndInputsJsonTheirHashes()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards();
        var o = fx.Options(Path.GetRelativePath(Environment.CurrentDirectory, data), "run") with
        {
            Model = Path.GetRelativePath(Environment.CurrentDirectory, fx.Model), MaxSteps = 1,
        };
        Train(o);
        var saved = TrainingOptions.FromJson(File.ReadAllText(new RunDirectory(o.Out).OptionsFile), "run.json");
        Assert.Equal(Path.GetFullPath(fx.Model), saved.Model);
        Assert.Equal(Path.GetFullPath(data), saved.Data);
        using var inputs = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.Out, RunInputs.FileName)));
        var byRole = inputs.RootElement.GetProperty("inputs").EnumerateArray().ToDictionary(e => e.GetProperty("role").GetString()!);
        Assert.Equal(ModelDirectoryHash.Compute(fx.Model), byRole["model"].GetProperty("sha256").GetString());
        Assert.Equal(RunInputs.FileHash(data), byRole["data"].GetProperty("sha256").GetString());
    }

    [Fact]
    public void ResumeAfterTheDataChangedIsRefusedUnlessAllowedAndTheOverrideIsRecorded()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards();
        var o = fx.Options(data, "run") with { MaxSteps = 4, SaveEvery = 1 };
        TrainUntil(o, 2);

        // Same rows, one reward edited: refused, naming the file.
        var lines = File.ReadAllLines(data);
        File.WriteAllLines(data, [lines[0].Replace("\"reward\":1", "\"reward\":0.5"), .. lines[1..]]);
        var e = Assert.Throws<TrainingException>(() => Train(o, resume: true));
        Assert.Contains(data, e.Message);
        Assert.Contains("changed", e.Message);
        Assert.Contains("--allow-changed-inputs", e.Message);

        // Allowed: it resumes, warns, and inputs.json records the override.
        var log = new StringWriter();
        Assert.False(Train(o, resume: true, log: log, allowChanged: true).Interrupted);
        Assert.Contains("changed inputs", log.ToString());
        using var inputs = JsonDocument.Parse(File.ReadAllText(Path.Combine(o.Out, RunInputs.FileName)));
        Assert.Equal(1, inputs.RootElement.GetProperty("overrides").GetArrayLength());
    }

    [Fact]
    public void ResumeAfterTheModelWasRetrainedIsRefused()
    {
        using var fx = new TrainerFixture();
        var o = fx.Options(fx.PromptDependentRewards(), "run") with { MaxSteps = 4, SaveEvery = 1 };
        TrainUntil(o, 2);
        var (family, config) = ModelFamilies.Preset("t5-tiny");
        using (var other = family.CreatePolicy(config))
        {
            other.InitializeWeights(new DeterministicRandom(12345));
            other.Save(fx.Model); // same path, other weights
        }
        var e = Assert.Throws<TrainingException>(() => Train(o, resume: true));
        Assert.Contains("model", e.Message);
        Assert.Contains(fx.Model, e.Message);
    }

    [Fact]
    public void ResumeWithAnotherRowCountIsAClearErrorEvenWhenChangesAreAllowed()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards(rows: 64);
        var o = fx.Options(data, "run") with { MaxSteps = 4, SaveEvery = 1 };
        TrainUntil(o, 2);
        File.WriteAllLines(data, File.ReadAllLines(data).Take(40));
        var e = Assert.Throws<TrainingException>(() => Train(o, resume: true, allowChanged: true));
        Assert.Contains("64", e.Message);
        Assert.Contains("40", e.Message);
    }

    // ---------------------------------------------------------------- 8. signals

    [Fact]
    public void ACancelDuringThePrecomputedReferencePassStopsItAndTheSameCommandContinues()
    {
        using var fx = new TrainerFixture();
        var o = fx.Options(fx.PromptDependentRewards(rows: 64), "run") with { PrecomputeReference = true, MaxSteps = 2 };
        using (var cts = new CancellationTokenSource())
        {
            cts.Cancel(); // as a Ctrl-C arriving while the reference model scores the data
            var r = Train(o, cancel: cts.Token);
            Assert.True(r.Interrupted);
            Assert.Equal(0, r.Steps);
        }
        var run = new RunDirectory(o.Out);
        Assert.Empty(run.Checkpoints()); // the pass did not run to its end first
        Assert.Contains("no checkpoint yet", Assert.Throws<TrainingException>(() => Train(o, resume: true)).Message);
        Assert.False(Train(o).Interrupted); // the original command again
    }

    [Fact]
    public void ACancelWithinAStepAbandonsItAndTheResumedRunIsBitIdentical()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards(rows: 64);
        var a = fx.Options(data, "a") with { MaxSteps = 4, GradientAccumulation = 3, BatchSize = 4 };
        var b = a with { Out = fx.Path_("b") };
        Train(a);
        using (var cts = new CancellationTokenSource())
        using (var t = new AlignmentTrainer(b, encoder: null, TextWriter.Null))
        {
            t.StepStarting += s => { if (s == 3) cts.Cancel(); }; // before step 3's first micro-batch
            var r = t.Train(resume: false, cts.Token);
            Assert.True(r.Interrupted);
            Assert.Equal(2, r.Steps); // step 3 was not completed after the signal
        }
        Assert.False(Train(b, resume: true).Interrupted);
        Assert.Equal(FinalWeights(a), FinalWeights(b));
    }

    // ---------------------------------------------------------------- 9. leftovers and corrupt checkpoints

    [Fact]
    public void StaleTemporariesAreRemovedAndACorruptNewestCheckpointFallsBackToThePreviousOne()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards();
        var a = fx.Options(data, "a") with { MaxSteps = 5, SaveEvery = 1, SaveTotalLimit = 0 };
        var b = a with { Out = fx.Path_("b") };
        Train(a);
        TrainUntil(b, 3);
        var run = new RunDirectory(b.Out);
        // What a writer killed mid-write leaves behind.
        string[] stale =
        [
            Path.Combine(run.CheckpointsDirectory, "step-4.tmp-0123456789abcdef0123456789abcdef"),
            Path.Combine(run.Path, "final.tmp-0123456789abcdef0123456789abcdef"),
        ];
        foreach (var d in stale) { Directory.CreateDirectory(Path.Combine(d, "policy")); File.WriteAllText(Path.Combine(d, "policy", "config.json"), "{"); }
        string atomicTmp = Path.Combine(run.Path, $".metrics.jsonl.{Guid.NewGuid():N}.tmp"), tokenizerTmp = Path.Combine(run.Path, "tokenizer.json.tmp4242");
        File.WriteAllText(atomicTmp, "half");
        File.WriteAllText(tokenizerTmp, "half");
        // The newest checkpoint is damaged (its weights truncated).
        string weights = Path.Combine(run.CheckpointDirectory(3), "policy", "model.safetensors");
        using (var f = new FileStream(weights, FileMode.Open)) f.SetLength(f.Length / 2);

        var log = new StringWriter();
        Assert.False(Train(b, resume: true, log: log).Interrupted);
        Assert.Contains("warning: checkpoint", log.ToString());
        Assert.Contains(run.CheckpointDirectory(2), log.ToString());
        foreach (var d in stale) Assert.False(Directory.Exists(d), d);
        Assert.False(File.Exists(atomicTmp));
        Assert.False(File.Exists(tokenizerTmp));
        Assert.Equal(FinalWeights(a), FinalWeights(b));
    }

    [Fact]
    public void AMetricsLineTornByACrashIsDroppedOnResume()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards();
        var a = fx.Options(data, "a") with { MaxSteps = 4, SaveEvery = 1 };
        var b = a with { Out = fx.Path_("b") };
        Train(a);
        TrainUntil(b, 2);
        File.AppendAllText(new RunDirectory(b.Out).MetricsFile, "{\"step\": 3, \"loss\": 0.12"); // killed inside the write
        Assert.False(Train(b, resume: true).Interrupted);
        static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"tokens_per_s\":[^,}]*,?", "");
        Assert.Equal(File.ReadLines(new RunDirectory(a.Out).MetricsFile).Select(Strip), File.ReadLines(new RunDirectory(b.Out).MetricsFile).Select(Strip));
    }

    [Fact]
    public void ARunStoppedAfterItsLastCheckpointButBeforeFinalLogsTheFinalEvaluationOnce()
    {
        // Found by bench/faults.sh: killed while final/ was written, the resumed run evaluated again and metrics.jsonl
        // had the final evaluation line twice.
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards();
        var a = fx.Options(data, "a") with { MaxSteps = 4, SaveEvery = 1, EvalFraction = 0.25 };
        var b = a with { Out = fx.Path_("b") };
        Train(a);
        Train(b);
        Directory.Delete(Path.Combine(b.Out, "final"), recursive: true); // as if killed before final/ was renamed into place
        Assert.False(Train(b, resume: true).Interrupted);
        static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"tokens_per_s\":[^,}]*,?", "");
        Assert.Equal(File.ReadLines(new RunDirectory(a.Out).MetricsFile).Select(Strip), File.ReadLines(new RunDirectory(b.Out).MetricsFile).Select(Strip));
        Assert.Equal(FinalWeights(a), FinalWeights(b));
    }

    // ---------------------------------------------------------------- 4. validation gaps

    [Fact]
    public void RewardsOfOneE300AreNormalisedInsteadOfOverflowing()
    {
        using var fx = new TrainerFixture();
        string data = fx.WriteJsonl("huge.jsonl", Enumerable.Range(0, 16).Select(i =>
            (object)new { prompt_ids = new[] { 5, 6 + i }, completion_ids = new[] { 7, 1 }, reward = i % 2 == 0 ? 1e300 : -1e300 }));
        var o = fx.Options(data, "run") with { MaxSteps = 2 };
        Assert.False(Train(o).Interrupted);
        var loaded = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = data }, encoder: null);
        Assert.All(loaded.Train.Examples, e => Assert.Equal(1.0, Math.Abs(e.Reward!.Value), 12));
    }

    [Fact]
    public void OutOfVocabularyIdsAreSkippedAndReportedUnderSkipBadRows()
    {
        using var fx = new TrainerFixture();
        string data = fx.WriteJsonl("oov.jsonl", Enumerable.Range(0, 16).Select(i => (object)(i == 3
            ? new { prompt_ids = new[] { fx.VocabSize + 5 }, completion_ids = new[] { 7, 1 }, reward = 1.0 }
            : i == 9 ? new { prompt_ids = new[] { 5 }, completion_ids = new[] { 7, int.MaxValue }, reward = 0.0 }
            : new { prompt_ids = new[] { 5, 6 + i }, completion_ids = new[] { 7, 1 }, reward = i % 3 })));
        var o = fx.Options(data, "run") with { MaxSteps = 2, SkipBadRows = true };
        Assert.False(Train(o).Interrupted);
        using var report = JsonDocument.Parse(File.ReadAllText(new RunDirectory(o.Out).DataReportFile));
        var skipped = report.RootElement.GetProperty("skipped_rows").EnumerateArray().ToList();
        Assert.Equal([4, 10], skipped.Select(s => s.GetProperty("line").GetInt32()));
        Assert.All(skipped, s => Assert.Equal("token_out_of_vocabulary", s.GetProperty("kind").GetString()));
    }
}
