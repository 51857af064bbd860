using System.Text.Json;
using DroSharp.Alignment.Training;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>What review found in the first trainer, each with a test that failed before the fix.</summary>
public sealed class TrainerReviewTests
{
    private static TrainingResult Train(TrainingOptions o)
    {
        using var t = new AlignmentTrainer(o, encoder: null, TextWriter.Null);
        return t.Train(resume: false, CancellationToken.None);
    }

    [Fact]
    public void SftPosWithoutPositiveRowsIsAUserError()
    {
        using var fx = new TrainerFixture();
        string data = fx.WriteJsonl("down.jsonl", Enumerable.Range(0, 8).Select(i => (object)new { prompt_ids = new[] { 5, 6 + i }, completion_ids = new[] { 7, 1 }, label = false }));
        var e = Assert.Throws<TrainingException>(() => Train(fx.Options(data, "run", "sft-pos")));
        Assert.Contains("no", e.Message);
        Assert.Contains("positive", e.Message);
    }

    [Fact]
    public void SftPosKeepsRewardsAboveTheMeanWithoutNormalisation()
    {
        // Raw rewards 10 and 20: "above the mean" keeps the 20s, whether or not rewards are normalised.
        using var fx = new TrainerFixture();
        string data = fx.WriteJsonl("scores.jsonl", Enumerable.Range(0, 16).Select(i => (object)new { prompt_ids = new[] { 5, 6 + i }, completion_ids = new[] { 7, 1 }, reward = i % 4 == 0 ? 20.0 : 10.0 }));
        var o = fx.Options(data, "run", "sft-pos") with { NormalizeRewards = false, MaxSteps = 1, BatchSize = 2 };
        var log = new StringWriter();
        using (var t = new AlignmentTrainer(o, encoder: null, log)) t.Train(resume: false, CancellationToken.None);
        // With the old raw-0 threshold every row would count as positive: 16 rows → 8 micro-batches per epoch.
        var metrics = TrainerFixture.Metrics(new RunDirectory(o.Out));
        Assert.Equal(2.0 / 4, metrics[0]["epoch"].GetDouble(), 6); // 1 step of 2 out of 4 positive rows
    }

    [Fact]
    public void EmptyPromptIdsAreADataErrorNamingTheLine()
    {
        using var fx = new TrainerFixture();
        string data = fx.WriteJsonl("bad.jsonl", [new { prompt_ids = new[] { 5 }, completion_ids = new[] { 7, 1 }, label = true }, new { prompt_ids = Array.Empty<int>(), completion_ids = new[] { 7, 1 }, label = false }]);
        var e = Assert.Throws<TrainingException>(() => Train(fx.Options(data, "run")));
        Assert.Contains("bad.jsonl:2", e.Message);
        Assert.Contains("prompt_ids", e.Message);
    }

    [Fact]
    public void TokenIdsOutsideTheVocabularyAreADataError()
    {
        using var fx = new TrainerFixture();
        string data = fx.WriteJsonl("oov.jsonl", [new { prompt_ids = new[] { 5 }, completion_ids = new[] { fx.VocabSize, 1 }, label = true }, new { prompt_ids = new[] { 6 }, completion_ids = new[] { 7, 1 }, label = false }]);
        var e = Assert.Throws<TrainingException>(() => Train(fx.Options(data, "run")));
        Assert.Contains("oov.jsonl:1", e.Message);
        Assert.Contains("vocabulary", e.Message);
    }

    [Fact]
    public void AnEvalSplitSmallerThanTheMinimumBatchIsSkippedWithAWarningNotNaN()
    {
        using var fx = new TrainerFixture();
        string data = fx.PromptDependentRewards(rows: 16);
        string eval = fx.WriteJsonl("eval.jsonl", [new { prompt_ids = new[] { 5, 30 }, completion_ids = new[] { 7, 1 }, reward = 1.0 }]);
        var o = fx.Options(data, "run", "kto") with { KtoLabel = "batch-mean", EvalData = eval, MaxSteps = 2 };
        var log = new StringWriter();
        using (var t = new AlignmentTrainer(o, encoder: null, log)) t.Train(resume: false, CancellationToken.None);
        Assert.Contains("fewer than kto's minimum micro-batch of 2", log.ToString());
        Assert.DoesNotContain("NaN", File.ReadAllText(new RunDirectory(o.Out).MetricsFile));
    }

    [Fact]
    public void RunJsonHoldsOnlyOptionsAndDataReportIsSnakeCase()
    {
        using var fx = new TrainerFixture();
        var o = fx.Options(fx.PromptDependentRewards(), "run") with { MaxSteps = 1 };
        Train(o);
        var run = new RunDirectory(o.Out);
        string options = File.ReadAllText(run.OptionsFile);
        Assert.DoesNotContain("EffectiveValueLearningRate", options);
        Assert.DoesNotContain("ValueMode", options);
        Assert.Equal(o, TrainingOptions.FromJson(options, run.OptionsFile));
        using var report = JsonDocument.Parse(File.ReadAllText(run.DataReportFile));
        var train = report.RootElement.GetProperty("train");
        Assert.True(train.TryGetProperty("rows_read", out _));
        Assert.All(train.EnumerateObject(), p => Assert.Equal(p.Name, p.Name.ToLowerInvariant()));
    }

    [Fact]
    public void ReferenceLogProbsAreComputedPerBatchSoTheFirstLogRatioIsExactlyZeroAndCachedForResume()
    {
        using var fx = new TrainerFixture();
        var o = fx.Options(fx.PromptDependentRewards(rows: 32), "run") with { MaxSteps = 1, LogEvery = 1 };
        var log = new StringWriter();
        using (var t = new AlignmentTrainer(o, encoder: null, log)) t.Train(resume: false, CancellationToken.None);
        var run = new RunDirectory(o.Out);
        var first = TrainerFixture.Metrics(run)[0];
        Assert.Equal(0.0, first["logratio/mean"].GetDouble());
        Assert.True(File.Exists(run.ReferenceCacheFile));
        // Only the rows of the first micro-batch were scored: the other 24 are still unknown (NaN) in the cache.
        using var cache = Models.Checkpoints.SafetensorsReader.Open(run.ReferenceCacheFile);
        using var train = cache.ReadTensor("train");
        Assert.Equal(o.BatchSize, train.ToArray().Count(float.IsFinite));
    }
}
