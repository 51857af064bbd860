using System.Text;
using DroSharp.Alignment.Data;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

public class JsonReaderTests
{
    [Fact]
    public void LabelledRowsWithBlankLinesKeepTheirPhysicalLines()
    {
        var d = Parse("""
            {"prompt": "The sky is", "completion": " blue.", "label": true}

              
            {"prompt": "The sky is", "completion": " green.", "label": false, "source": "extra column"}
            {"prompt": "Grass is", "completion": " green.", "label": 1}
            {"prompt": "Grass is", "completion": " red.", "label": 0}
            """);
        Assert.Equal(DatasetKind.LabelledFeedback, d.Kind);
        Assert.Equal(DataFileFormat.Json, d.Format);
        Assert.Equal(4, d.RowsRead);
        Assert.Equal([1, 4, 5, 6], d.Examples.Select(e => e.Line));
        Assert.Equal(new bool?[] { true, false, true, false }, d.Examples.Select(e => e.Label));
        Assert.Equal(" green.", d.Examples[1].Completion.Text);
        Assert.All(d.Examples, e => Assert.Null(e.Reward));
        Assert.Empty(d.Warnings);
        Assert.Empty(d.SkippedRows);
    }

    [Fact]
    public void ScoredRows()
    {
        var d = Parse("{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":-1.5}\n{\"prompt\":\"a\",\"completion\":\"c\",\"reward\":3}\n{\"prompt\":\"a\",\"completion\":\"d\",\"reward\":\"2.25\"}\n");
        Assert.Equal(DatasetKind.ScoredFeedback, d.Kind);
        Assert.Equal(new double?[] { -1.5, 3, 2.25 }, d.Examples.Select(e => e.Reward));
    }

    [Fact]
    public void LabelAndRewardTogetherUseTheRewardAndWarn()
    {
        var d = Parse("{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":0.5,\"label\":true}\n{\"prompt\":\"a\",\"completion\":\"c\",\"reward\":0.1,\"label\":\"not even checked\"}");
        Assert.Equal(DatasetKind.ScoredFeedback, d.Kind);
        Assert.Equal(new double?[] { 0.5, 0.1 }, d.Examples.Select(e => e.Reward));
        Assert.All(d.Examples, e => Assert.Null(e.Label));
        var w = Assert.Single(d.Warnings);
        Assert.Contains("reward is used and the label ignored", w);
    }

    [Fact]
    public void PairsAreKeptAsPairsAndExpandIntoTwoLabelledRows()
    {
        var d = Parse("{\"prompt\":\"The sky is\",\"chosen\":\" blue.\",\"rejected\":\" green.\"}\n\n{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected\":\"r\"}");
        Assert.Equal(DatasetKind.PreferencePairs, d.Kind);
        Assert.Equal(2, d.Count);
        Assert.Empty(d.Examples);
        Assert.Equal(3, d.Pairs[1].Line);

        var u = d.ExpandPairs();
        Assert.Equal(DatasetKind.LabelledFeedback, u.Kind);
        Assert.Equal(DatasetKind.PreferencePairs, u.ConvertedFrom);
        Assert.Equal(["blue.", "green.", "c", "r"], u.Examples.Select(e => e.Completion.Text!.Trim()));
        Assert.Equal(new bool?[] { true, false, true, false }, u.Examples.Select(e => e.Label));
        Assert.Equal([1, 1, 3, 3], u.Examples.Select(e => e.Line));

        var sft = d.ConvertFor(DataRequirement.Completions, "sft");
        Assert.Equal(DatasetKind.PromptCompletion, sft.Kind);
        Assert.Equal([" blue.", "c"], sft.Examples.Select(e => e.Completion.Text));
    }

    [Fact]
    public void PromptCompletionRows()
    {
        var d = Parse("{\"prompt\":\"a\",\"completion\":\"b\"}");
        Assert.Equal(DatasetKind.PromptCompletion, d.Kind);
        Assert.Null(d.Examples[0].Label);
        Assert.Null(d.Examples[0].Reward);
    }

    [Fact]
    public void TokenIdsAreUsedVerbatimAndMayAccompanyText()
    {
        var d = Parse("""
            {"prompt_ids": [5, 0, 7], "completion_ids": [2147483647, 1], "label": false}
            {"prompt": "hi", "prompt_ids": [9], "completion": "yo", "label": true}
            """);
        Assert.Equal(DatasetKind.LabelledFeedback, d.Kind);
        Assert.Equal([5, 0, 7], d.Examples[0].Prompt.Ids!);
        Assert.Null(d.Examples[0].Prompt.Text);
        Assert.Equal([int.MaxValue, 1], d.Examples[0].Completion.ToIds(null, completion: true));
        Assert.Equal("hi", d.Examples[1].Prompt.Text);
        Assert.Equal([9], d.Examples[1].Prompt.ToIds(CharEncoder, completion: false));
        Assert.Equal(['y', 'o', 1], d.Examples[1].Completion.ToIds(CharEncoder, completion: true));
        Assert.Throws<InvalidOperationException>(() => d.Examples[1].Completion.ToIds(null, completion: true));
    }

    [Fact]
    public void PairsMayUseIds()
    {
        var d = Parse("{\"prompt_ids\":[1],\"chosen_ids\":[2,1],\"rejected\":\"no\"}");
        Assert.Equal(DatasetKind.PreferencePairs, d.Kind);
        Assert.Equal([2, 1], d.Pairs[0].Chosen.Ids!);
        Assert.Equal("no", d.Pairs[0].Rejected.Text);
    }

    [Fact]
    public void Utf8BomAndCrLfAndNonAsciiText()
    {
        byte[] body = Encoding.UTF8.GetBytes("{\"prompt\":\"Größe?\",\"completion\":\"日本 🙂\",\"label\":true}\r\n{\"prompt\":\"x\",\"completion\":\"y\",\"label\":false}\r\n");
        var d = FeedbackFileReader.Parse([0xEF, 0xBB, 0xBF, .. body], "bom.jsonl");
        Assert.Equal(2, d.Count);
        Assert.Equal("Größe?", d.Examples[0].Prompt.Text);
        Assert.Equal("日本 🙂", d.Examples[0].Completion.Text);
        Assert.Equal(2, d.Examples[1].Line);
    }

    [Fact]
    public void JsonArrayFileWithLineNumbers()
    {
        var d = Parse("""
            [
              {"prompt": "a", "completion": "b", "reward": 1},
              {
                "prompt": "c",
                "completion": "d",
                "reward": 2
              }
            ]
            """, "data.json");
        Assert.Equal(DatasetKind.ScoredFeedback, d.Kind);
        Assert.Equal([2, 3], d.Examples.Select(e => e.Line));
    }

    [Fact]
    public void JsonArrayRowErrorsNameTheElementLine()
    {
        var e = ParseError("[\n{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":1},\n\n{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":NaN}\n]", "data.json");
        AssertError(e, DataErrorKind.NonFiniteReward, 4, "reward");
        var broken = ParseError("[\n{\"prompt\":\"a\",\"completion\":\"b\",\"reward\":1},\n{\"prompt\": }\n]", "data.json");
        AssertError(broken, DataErrorKind.MalformedJson, 3, null);
        var trailing = ParseError("[{\"prompt\":\"a\",\"completion\":\"b\"}]\n\n{}", "data.json");
        AssertError(trailing, DataErrorKind.MalformedJson, 3, null);
    }

    [Fact]
    public void JsonArraySkipsBadElements()
    {
        var d = Parse("[\n{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true},\n7,\n{\"prompt\":\"a\",\"completion\":\"\",\"label\":true},\n{\"prompt\":\"c\",\"completion\":\"d\",\"label\":false}\n]", "a.json", skip: true);
        Assert.Equal([2, 5], d.Examples.Select(e => e.Line));
        Assert.Equal([(3, DataErrorKind.MalformedJson), (4, DataErrorKind.EmptyCompletion)], d.SkippedRows.Select(s => (s.Line, s.Kind)));
        Assert.Equal(4, d.RowsRead);
    }

    [Fact]
    public void ExplicitFormatOverridesTheExtension()
    {
        var d = Parse("{\"prompt\":\"a\",\"completion\":\"b\"}", "feedback.txt", format: DataFileFormat.Json);
        Assert.Equal(1, d.Count);
        var csv = Parse("prompt,completion\na,b\n", "feedback.log", format: DataFileFormat.Csv);
        Assert.Equal(DataFileFormat.Csv, csv.Format);
    }

    [Fact]
    public void ReadsFromDiskAndReportsMissingFiles()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string path = dir.Write("f.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true}\n");
        Assert.Equal(path, FeedbackFileReader.Read(path).File);
        var e = Assert.Throws<DataFormatException>(() => FeedbackFileReader.Read(Path.Combine(dir.Path, "nope.jsonl")));
        Assert.Equal(DataErrorKind.FileUnreadable, e.Kind);
        Assert.Null(e.Line);
        Assert.Contains("nope.jsonl", e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void RequireKindGivesAClearError()
    {
        var d = Parse("{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true}", "fb.jsonl");
        var e = Assert.Throws<DataFormatException>(() => d.ConvertFor(DataRequirement.Pairs, "dpo"));
        Assert.Equal(DataErrorKind.WrongKind, e.Kind);
        Assert.Equal("fb.jsonl: dpo needs prompt/chosen/rejected pairs, but the file holds labelled feedback (prompt, completion, label)", e.Message);
        var sft = Parse("{\"prompt\":\"a\",\"completion\":\"b\"}", "sft.jsonl");
        var e2 = Assert.Throws<DataFormatException>(() => sft.ConvertFor(DataRequirement.Feedback, "dro-v"));
        Assert.Contains("dro-v needs", e2.Message);
        Assert.Same(d, d.ConvertFor(DataRequirement.Feedback, "dro-v"));
    }
}
