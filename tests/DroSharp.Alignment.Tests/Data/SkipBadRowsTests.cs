using DroSharp.Alignment.Data;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

public class SkipBadRowsTests
{
    private const string Mixed = """
        {"prompt": "a", "completion": "x", "reward": 1.0}
        {"prompt": "b", "completion": "", "reward": 2.0}
        {"prompt": "c", "completion": "y", "reward": NaN}

        {"prompt": "d", "completion": "z", "reward": 0.5
        {"prompt": "e", "completion": "w", "reward": "lots"}
        {"prompt": "f", "completion": "v", "reward": -3}
        {"prompt": [{"role": "user", "content": "g"}], "completion": "u", "reward": 0}
        {"prompt": "h", "completion": "t"}
        {"prompt": "i", "completion": "s", "reward": 4}
        """;

    [Fact]
    public void WithoutSkippingTheFirstBadRowThrows()
    {
        var e = ParseError(Mixed, "mixed.jsonl");
        AssertError(e, DataErrorKind.EmptyCompletion, 2, "completion");
    }

    [Fact]
    public void SkippingCountsEveryBadRowWithLineAndReason()
    {
        var d = Parse(Mixed, "mixed.jsonl", skip: true);
        Assert.Equal(9, d.RowsRead);
        Assert.Equal([1, 7, 10], d.Examples.Select(e => e.Line));
        Assert.Equal(new double?[] { 1.0, -3, 4 }, d.Examples.Select(e => e.Reward));
        Assert.Equal(6, d.SkippedRows.Count);
        Assert.Equal(
            new (int, string?, DataErrorKind)[]
            {
                (2, "completion", DataErrorKind.EmptyCompletion),
                (3, "reward", DataErrorKind.NonFiniteReward),
                (5, null, DataErrorKind.MalformedJson),
                (6, "reward", DataErrorKind.WrongType),
                (8, "prompt", DataErrorKind.ConversationalFormat),
                (9, "reward", DataErrorKind.MissingField),
            },
            d.SkippedRows.Select(s => (s.Line, s.Field, s.Kind)));
        Assert.All(d.SkippedRows, s => Assert.Equal("mixed.jsonl", s.File));
        Assert.StartsWith("mixed.jsonl:3: field 'reward': ", d.SkippedRows[1].ToString());
    }

    [Fact]
    public void KindIsDetectedFromTheFirstWellFormedRowWhenSkipping()
    {
        var d = Parse("{broken\n{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true}\n", skip: true);
        Assert.Equal(DatasetKind.LabelledFeedback, d.Kind);
        Assert.Equal(1, Assert.Single(d.SkippedRows).Line);
    }

    [Fact]
    public void CsvSkipsBadRecordsAndResynchronises()
    {
        const string csv = "prompt,completion,label\n"
            + "a,b,true\n"          // 2
            + "\"x\"y,b,true\n"     // 3: junk after a closing quote
            + "c,d\n"               // 4: too few fields
            + "\"e\nf\",g,maybe\n"  // 5-6: bad label, reported at its first line
            + "h,i,0\n";            // 7
        var d = Parse(csv, "s.csv", skip: true);
        Assert.Equal([2, 7], d.Examples.Select(e => e.Line));
        Assert.Equal([3, 4, 5], d.SkippedRows.Select(s => s.Line));
        Assert.Equal(5, d.RowsRead);
    }

    [Fact]
    public void AllRowsBadIsStillAnError()
    {
        var e = Assert.Throws<DataFormatException>(() => Parse("{\"prompt\":\"a\",\"completion\":\"\",\"label\":true}\n{x\n", skip: true));
        Assert.Equal(DataErrorKind.UnsupportedLayout, e.Kind);
        Assert.Contains("all 2 rows are bad", e.Reason);
    }
}
