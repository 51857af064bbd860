using System.Text.Json;
using DroSharp.Alignment.Data;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

public class TrainingDataLoaderTests
{
    [Fact]
    public void LabelledFeedbackEndToEnd()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("train.jsonl", """
            {"prompt": "abcdef", "completion": "xy", "label": true}
            {"prompt": "abcdef", "completion": "zzzz", "label": false}
            {"prompt": "q", "completion": "ok", "label": true}
            {"prompt": "r", "completion": "no", "label": true}
            """);
        var data = TrainingDataLoader.Load(new TrainingDataOptions
        {
            DataPath = train,
            MaxPromptLength = 4,
            MaxCompletionLength = 3,
            Purpose = "dro-v",
        }, CharEncoder);

        var t = data.Train;
        Assert.Null(data.Eval);
        Assert.Equal(4, t.Count);
        Assert.Equal([(int)'d', 'e', 'f', 1], t.Examples[0].PromptIds); // "abcdef</s>" keeps its last 4 tokens
        Assert.Equal([(int)'x', 'y', 1], t.Examples[0].CompletionIds);
        Assert.Equal([(int)'z', 'z', 'z'], t.Examples[1].CompletionIds); // "zzzz</s>" keeps its start
        Assert.Equal(new double?[] { 1, 0, 1, 1 }, t.Examples.Select(e => e.RawReward));

        // z-normalisation: rewards {1,0,1,1}, mean 0.75, population std sqrt(0.1875).
        double sd = Math.Sqrt(0.1875);
        Assert.NotNull(data.Normalizer);
        Assert.Equal(0.75, data.Normalizer!.Mean, 15);
        Assert.Equal(sd, data.Normalizer.Std, 15);
        Assert.Equal(0.25 / sd, t.Examples[0].Reward!.Value, 12);
        Assert.Equal(-0.75 / sd, t.Examples[1].Reward!.Value, 12);

        var s = t.Summary;
        Assert.Equal("labelled", s.Kind);
        Assert.Equal(3, s.LabelsUp);
        Assert.Equal(1, s.LabelsDown);
        Assert.Equal(3, s.DistinctPrompts);
        Assert.Equal(1, s.PromptsWithSeveralResponses);
        Assert.Equal(2, s.MaxResponsesPerPrompt);
        Assert.Equal(new TruncationCounts(4, 2, 6, 4, 1, 2), s.Truncation);
        Assert.Equal(4, s.PromptTokensMax);
        Assert.Equal(3, s.CompletionTokensMax);
        Assert.Equal([0, 1], t.PromptGroups.Groups[0]);
        Assert.Empty(data.Warnings);
    }

    [Fact]
    public void EvalFileUsesTheTrainingNormalisation()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("train.csv", "prompt,completion,reward\na,b,1\nc,d,2\ne,f,3\ng,h,4\n");
        string eval = dir.Write("eval.jsonl", "{\"prompt\":\"i\",\"completion\":\"j\",\"reward\":10}\n{\"prompt\":\"k\",\"completion\":\"l\",\"reward\":2.5}\n");
        var data = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = train, EvalDataPath = eval }, CharEncoder);
        double sd = Math.Sqrt(1.25);
        var trainZ = data.Train.Examples.Select(e => e.Reward!.Value).ToArray();
        var st = RewardStatistics.Compute(trainZ);
        Assert.Equal(0, st.Mean, 14);
        Assert.Equal(1, st.Std, 14);
        Assert.Equal((10 - 2.5) / sd, data.Eval!.Examples[0].Reward!.Value, 12);
        Assert.Equal(0, data.Eval.Examples[1].Reward!.Value, 14);
        Assert.Equal(2.5, data.Eval.Summary.NormalizationMean);
        Assert.Equal("eval", data.Eval.Summary.Split);
        Assert.Equal(eval, data.Eval.Summary.File);
    }

    [Fact]
    public void NormalisationCanBeSwitchedOffAndLabelValuesConfigured()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("t.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true}\n{\"prompt\":\"a\",\"completion\":\"c\",\"label\":false}\n");
        var data = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = train, NormalizeRewards = false, UpReward = 1, DownReward = -1 }, CharEncoder);
        Assert.Null(data.Normalizer);
        Assert.Equal(new double?[] { 1, -1 }, data.Train.Examples.Select(e => e.Reward));
        Assert.False(data.Train.Summary.RewardsNormalized);
        Assert.Throws<ArgumentException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = train, UpReward = 0, DownReward = 0 }, CharEncoder));
    }

    [Fact]
    public void ConstantRewardsWarnAndGiveZeros()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("up.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true}\n{\"prompt\":\"c\",\"completion\":\"d\",\"label\":1}\n");
        var data = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = train }, CharEncoder);
        Assert.All(data.Train.Examples, e => Assert.Equal(0.0, e.Reward));
        var w = Assert.Single(data.Warnings);
        Assert.Contains("all 2 training labels are thumbs up", w);
        Assert.Contains("no signal", w);
        Assert.True(data.Normalizer!.IsConstant);
        Assert.Contains(w, data.Train.Summary.Warnings);
        Assert.Contains("warning: all 2 training labels", data.Train.Summary.ToString());
    }

    [Fact]
    public void EvalFractionSplitsByPromptDeterministically()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("t.jsonl", string.Join("\n", Enumerable.Range(0, 40).Select(i =>
            $"{{\"prompt\":\"p{i / 2}\",\"completion\":\"c{i}\",\"reward\":{i % 7}}}")));
        var options = new TrainingDataOptions { DataPath = train, EvalFraction = 0.25, Seed = 3 };
        var a = TrainingDataLoader.Load(options, CharEncoder);
        var b = TrainingDataLoader.Load(options, CharEncoder);
        Assert.Equal(10, a.Eval!.Count);
        Assert.Equal(30, a.Train.Count);
        Assert.Equal(a.Eval.Examples.Select(e => e.Line), b.Eval!.Examples.Select(e => e.Line));
        Assert.Empty(a.Train.Source.Examples.Select(e => e.Prompt.Text).Intersect(a.Eval.Source.Examples.Select(e => e.Prompt.Text)));
        // The normalisation is fitted on the training part only.
        var trainRaw = a.Train.Examples.Select(e => e.RawReward!.Value).ToArray();
        Assert.Equal(RewardStatistics.Compute(trainRaw).Mean, a.Normalizer!.Mean, 14);
        Assert.Equal(a.Train.Examples.Select(e => e.Line), a.Train.Source.Examples.Select(e => e.Line));
        var c = TrainingDataLoader.Load(options with { Seed = 4 }, CharEncoder);
        Assert.NotEqual(a.Eval.Examples.Select(e => e.Line), c.Eval!.Examples.Select(e => e.Line));
    }

    [Fact]
    public void PairsForDpoAndExpandedForDro()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string path = dir.Write("pairs.jsonl", "{\"prompt\":\"p\",\"chosen\":\"good\",\"rejected\":\"bad\"}\n{\"prompt\":\"q\",\"chosen\":\"yes\",\"rejected\":\"no\"}\n");
        var dpo = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path, Requirement = DataRequirement.Pairs, Purpose = "dpo", MaxCompletionLength = 3 }, CharEncoder);
        Assert.Equal(DatasetKind.PreferencePairs, dpo.Train.Kind);
        Assert.Equal(2, dpo.Train.Pairs.Count);
        Assert.Empty(dpo.Train.Examples);
        Assert.Equal([(int)'g', 'o', 'o'], dpo.Train.Pairs[0].ChosenIds);
        Assert.Equal([(int)'b', 'a', 'd'], dpo.Train.Pairs[0].RejectedIds);
        Assert.Equal(new TruncationCounts(2, 0, 0, 4, 3, 4), dpo.Train.Summary.Truncation);
        Assert.Null(dpo.Normalizer);

        var dro = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path }, CharEncoder);
        Assert.Equal(DatasetKind.LabelledFeedback, dro.Train.Kind);
        Assert.Equal(4, dro.Train.Count);
        Assert.Equal("pairs", dro.Train.Summary.ConvertedFrom);
        Assert.Equal(2, dro.Train.Summary.PromptsWithSeveralResponses);
        Assert.Equal(2, dro.Train.Summary.LabelsUp);

        using var dir2 = new TempDirectory("drosharp-data-");
        string labelled = dir2.Write("l.jsonl", "{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true}\n");
        var e = Assert.Throws<DataFormatException>(() =>
            TrainingDataLoader.Load(new TrainingDataOptions { DataPath = labelled, Requirement = DataRequirement.Pairs, Purpose = "dpo" }, CharEncoder));
        Assert.Equal(DataErrorKind.WrongKind, e.Kind);
        Assert.Contains("dpo needs prompt/chosen/rejected pairs", e.Message);
    }

    [Fact]
    public void IdsNeedNoEncoderButTextDoes()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string ids = dir.Write("ids.jsonl", "{\"prompt_ids\":[4,5,1],\"completion_ids\":[6,1],\"reward\":0.5}\n{\"prompt_ids\":[4,5,1],\"completion_ids\":[7,1],\"reward\":1.5}\n");
        var data = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = ids }, encoder: null);
        Assert.Equal([4, 5, 1], data.Train.Examples[1].PromptIds);
        Assert.Equal([7, 1], data.Train.Examples[1].CompletionIds);
        Assert.Equal(1, data.Train.PromptGroups.Count);

        string text = dir.Write("text.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":1}\n");
        // A user error naming the line and field (it used to be an InvalidOperationException, a crash in the CLI).
        var e = Assert.Throws<DataFormatException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = text }, encoder: null));
        Assert.Equal(DataErrorKind.Unencodable, e.Kind);
        Assert.Contains("text.jsonl:1", e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void CompletionsThatEncodeToNothingAreRowErrors()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string path = dir.Write("t.jsonl", "{\"prompt\":\"a\",\"completion\":\"ok\",\"reward\":1}\n{\"prompt\":\"a\",\"completion\":\"???\",\"reward\":2}\n{\"prompt\":\"b\",\"completion\":\"fine\",\"reward\":3}\n");
        var dropsQuestionMarks = ITextEncoder.From(s => s.Where(c => c != '?').Select(c => (int)c).ToArray());
        var e = Assert.Throws<DataFormatException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path }, dropsQuestionMarks));
        AssertError(e, DataErrorKind.EmptyCompletion, 2, "completion");

        var data = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path, SkipBadRows = true }, dropsQuestionMarks);
        Assert.Equal([1, 3], data.Train.Examples.Select(x => x.Line));
        Assert.Equal([1, 3], data.Train.Source.Examples.Select(x => x.Line));
        Assert.Equal(2, Assert.Single(data.SkippedRows).Line);
        Assert.Equal(1, data.Train.Summary.SkippedRows);
    }

    [Fact]
    public void SkippedRowsFromBothFilesAreCollected()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("t.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":1}\n{bad\n{\"prompt\":\"a\",\"completion\":\"c\",\"reward\":2}\n");
        string eval = dir.Write("e.csv", "prompt,completion,reward\nx,y,1\nx,z,oops\n");
        var data = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = train, EvalDataPath = eval, SkipBadRows = true }, CharEncoder);
        Assert.Equal([(train, 2), (eval, 3)], data.SkippedRows.Select(s => (s.File, s.Line)));
        Assert.Equal(1, data.Train.Summary.SkippedRows);
        Assert.Equal(1, data.Eval!.Summary.SkippedRows);
    }

    [Fact]
    public void EvalMustCarryTheSameKindOfFeedback()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("t.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":1}\n");
        string eval = dir.Write("e.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true}\n");
        var e = Assert.Throws<DataFormatException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = train, EvalDataPath = eval }, CharEncoder));
        Assert.Equal(DataErrorKind.WrongKind, e.Kind);
        Assert.Equal(eval, e.File);
    }

    [Fact]
    public void TokenFingerprintFollowsTheIdsOnly()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string a = dir.Write("a.jsonl", "{\"prompt\":\"ab\",\"completion\":\"c\",\"reward\":1}\n{\"prompt\":\"d\",\"completion\":\"e\",\"reward\":2}\n");
        string sameIds = dir.Write("b.csv", "prompt,completion,reward\nab,c,5\nd,e,-1\n");
        string moved = dir.Write("c.jsonl", "{\"prompt\":\"a\",\"completion\":\"bc\",\"reward\":1}\n{\"prompt\":\"d\",\"completion\":\"e\",\"reward\":2}\n");
        string Fp(string path) => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = path }, CharEncoder).Train.TokenFingerprint();
        Assert.Equal(64, Fp(a).Length);
        Assert.Equal(Fp(a), Fp(sameIds));
        Assert.NotEqual(Fp(a), Fp(moved)); // same tokens overall, different boundaries
    }

    [Fact]
    public void OptionConflicts()
    {
        Assert.Throws<ArgumentException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = "a.jsonl", EvalDataPath = "b.jsonl", EvalFraction = 0.1 }, CharEncoder));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingDataLoader.Load(new TrainingDataOptions { DataPath = "a.jsonl", EvalFraction = 1.5 }, CharEncoder));
    }

    [Fact]
    public void SummaryPrintsAndSerialises()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string train = dir.Write("t.jsonl", "{\"prompt\":\"abc\",\"completion\":\"de\",\"reward\":-1}\n{\"prompt\":\"abc\",\"completion\":\"fgh\",\"reward\":3}\n{\"prompt\":\"z\",\"completion\":\"y\",\"reward\":1}\n");
        var s = TrainingDataLoader.Load(new TrainingDataOptions { DataPath = train, MaxPromptLength = 2 }, CharEncoder).Train.Summary;
        string text = s.ToString();
        Assert.Contains("train: " + train + " (json, scored)", text);
        Assert.Contains("rows read 3, skipped 0", text);
        Assert.Contains("rewards: mean 1, std 1.63299, min -1, max 3; z-normalised with mean 1, std 1.63299", text);
        Assert.Contains("tokens: prompt mean 2.0, max 2; completion mean 3.0, max 4", text);
        Assert.Contains("prompts: 2 distinct, 1 with several responses (at most 2)", text);
        Assert.Contains("truncated: 2 of 3 prompts (to their last 2 tokens, 4 tokens dropped), 0 of 3 completions", text);

        using var doc = JsonDocument.Parse(s.ToJson());
        var r = doc.RootElement;
        Assert.Equal("train", r.GetProperty("split").GetString());
        Assert.Equal(3, r.GetProperty("rows_read").GetInt32());
        Assert.Equal(3.0, r.GetProperty("rewards").GetProperty("max").GetDouble());
        Assert.Equal(2, r.GetProperty("truncation").GetProperty("prompts_truncated").GetInt32());
        Assert.Equal(1, r.GetProperty("prompts_with_several_responses").GetInt32());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("labels_up").ValueKind);
        Assert.Equal(0, r.GetProperty("warnings").GetArrayLength());
    }
}
