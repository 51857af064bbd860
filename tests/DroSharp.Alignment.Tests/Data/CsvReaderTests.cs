using System.Text;
using DroSharp.Alignment.Data;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

public class CsvReaderTests
{
    [Fact]
    public void QuotingEdgeCases()
    {
        const string csv =
            "prompt,completion,label\n" +
            "\"Hello, world\",\"She said \"\"hi\"\"\",true\n" +   // line 2: embedded delimiter and doubled quotes
            "\"multi\nline\nprompt\",plain,FALSE\n" +              // line 3-5: embedded newlines
            "\"\"\"quoted\"\"\",\"a\r\nb\",1\n" +                   // line 6-7: leading/trailing quotes, CRLF inside a field kept
            "5\" screen,it's \"fine\",0\n" +                       // line 8: quotes in unquoted fields are literal
            "\"\",x,True\n" +                                       // line 9: empty quoted prompt
            "  spaced  ,  kept  , true \n";                         // line 10: spaces kept in text, trimmed in the label
        var d = Parse(csv, "f.csv");
        Assert.Equal(DatasetKind.LabelledFeedback, d.Kind);
        Assert.Equal(DataFileFormat.Csv, d.Format);
        var e = d.Examples;
        Assert.Equal(6, e.Count);
        Assert.Equal("Hello, world", e[0].Prompt.Text);
        Assert.Equal("She said \"hi\"", e[0].Completion.Text);
        Assert.Equal("multi\nline\nprompt", e[1].Prompt.Text);
        Assert.Equal("\"quoted\"", e[2].Prompt.Text);
        Assert.Equal("a\r\nb", e[2].Completion.Text);
        Assert.Equal("5\" screen", e[3].Prompt.Text);
        Assert.Equal("it's \"fine\"", e[3].Completion.Text);
        Assert.Equal("", e[4].Prompt.Text);
        Assert.Equal("  spaced  ", e[5].Prompt.Text);
        Assert.Equal("  kept  ", e[5].Completion.Text);
        Assert.Equal([2, 3, 6, 8, 9, 10], e.Select(x => x.Line));
        Assert.Equal(new bool?[] { true, false, true, false, true, true }, e.Select(x => x.Label));
    }

    [Fact]
    public void WindowsLineEndingsFromDiskWithBom()
    {
        using var dir = new TempDirectory("drosharp-data-");
        string text = "prompt,completion,reward\r\n\"two\r\nlines\",b,1.5\r\n\r\nc,d,-2e-1\r\ne,\"f, g\",3\r\n";
        string path = dir.WriteBytes("win.csv", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)]);
        var d = FeedbackFileReader.Read(path);
        Assert.Equal(DatasetKind.ScoredFeedback, d.Kind);
        Assert.Equal(["two\r\nlines", "c", "e"], d.Examples.Select(x => x.Prompt.Text));
        Assert.Equal(["b", "d", "f, g"], d.Examples.Select(x => x.Completion.Text));
        Assert.Equal(new double?[] { 1.5, -0.2, 3 }, d.Examples.Select(x => x.Reward));
        Assert.Equal([2, 5, 6], d.Examples.Select(x => x.Line));
        Assert.Equal(3, d.RowsRead);
    }

    [Fact]
    public void WindowsLineEndingsErrorsStillNameTheLine()
    {
        var e = ParseError("prompt,completion,reward\r\na,b,1\r\nc,d,nan\r\n", "win.csv");
        AssertError(e, DataErrorKind.NonFiniteReward, 3, "reward");
    }

    [Fact]
    public void PairsAndPromptCompletionAndIdsAsJsonArrays()
    {
        var pairs = Parse("prompt,chosen,rejected\np,good,bad\n", "p.csv");
        Assert.Equal(DatasetKind.PreferencePairs, pairs.Kind);
        Assert.Equal("bad", pairs.Pairs[0].Rejected.Text);

        var sft = Parse("prompt,completion\np,c\n", "s.csv");
        Assert.Equal(DatasetKind.PromptCompletion, sft.Kind);

        var ids = Parse("prompt_ids,completion_ids,label\n\"[1, 2, 3]\",[4],1\n", "i.csv");
        Assert.Equal([1, 2, 3], ids.Examples[0].Prompt.Ids!);
        Assert.Equal([4], ids.Examples[0].Completion.Ids!);
    }

    [Fact]
    public void HeaderNamesAreTrimmedAndUnnamedColumnsIgnored()
    {
        // pandas writes its index as a first column with an empty name.
        var d = Parse(",prompt , completion,label,notes\n0,p,c,true,whatever\n1,q,r,false,\n", "pd.csv");
        Assert.Equal(2, d.Count);
        Assert.Equal("q", d.Examples[1].Prompt.Text);
    }

    [Fact]
    public void TabSeparated()
    {
        var d = Parse("prompt\tcompletion\tlabel\na, b\t\"c\td\"\ttrue\n", "f.tsv");
        Assert.Equal(DataFileFormat.Tsv, d.Format);
        Assert.Equal("a, b", d.Examples[0].Prompt.Text);
        Assert.Equal("c\td", d.Examples[0].Completion.Text);
    }

    [Fact]
    public void NoTrailingNewlineAndTrailingEmptyField()
    {
        var d = Parse("prompt,completion,label,extra\np,c,true,", "f.csv");
        Assert.Equal(1, d.Count);
        var q = Parse("prompt,completion,label\n\"p\",\"c\",\"true\"", "f.csv");
        Assert.Equal(true, q.Examples[0].Label);
    }

    [Theory]
    [InlineData("prompt,completion,label\np,c,true\np,c\n", 3, null, DataErrorKind.MalformedCsv)]
    [InlineData("prompt,completion,label\np,c,true\np,c,true,extra\n", 3, null, DataErrorKind.MalformedCsv)]
    [InlineData("prompt,completion,label\np,c,true\n\"p\"x,c,true\n", 3, null, DataErrorKind.MalformedCsv)]
    [InlineData("prompt,completion,label\np,c,true\np,c,yes\n", 3, "label", DataErrorKind.WrongType)]
    [InlineData("prompt,completion,label\np,c,true\np,c,\n", 3, "label", DataErrorKind.MissingField)]
    [InlineData("prompt,completion,label\np,c,true\np,,true\n", 3, "completion", DataErrorKind.EmptyCompletion)]
    [InlineData("prompt,completion,label\n\"multi\nline\",c,true\np,\"\",true\n", 4, "completion", DataErrorKind.EmptyCompletion)]
    [InlineData("prompt,completion,reward\np,c,1\np,c,abc\n", 3, "reward", DataErrorKind.WrongType)]
    [InlineData("prompt,completion,reward\np,c,1\np,c,\n", 3, "reward", DataErrorKind.MissingField)]
    [InlineData("prompt,completion,reward\np,c,1\np,c,NaN\n", 3, "reward", DataErrorKind.NonFiniteReward)]
    [InlineData("prompt,completion,reward\np,c,1\np,c,-inf\n", 3, "reward", DataErrorKind.NonFiniteReward)]
    [InlineData("prompt,completion,reward\np,c,1\np,c,Infinity\n", 3, "reward", DataErrorKind.NonFiniteReward)]
    [InlineData("prompt,completion,reward\np,c,1\np,c,1e999\n", 3, "reward", DataErrorKind.NonFiniteReward)]
    [InlineData("prompt_ids,completion,label\n[1],c,true\n[1 2],c,true\n", 3, "prompt_ids", DataErrorKind.InvalidTokenIds)]
    [InlineData("prompt_ids,completion,label\n[1],c,true\n\"[1,-2]\",c,true\n", 3, "prompt_ids", DataErrorKind.InvalidTokenIds)]
    [InlineData("prompt_ids,completion,label\n[1],c,true\n,c,true\n", 3, "prompt_ids", DataErrorKind.MissingField)]
    [InlineData("prompt,completion,label\np,c,true\n\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"hi\"\"}]\",c,true\n", 3, "prompt", DataErrorKind.ConversationalFormat)]
    public void RowErrors(string csv, int line, string? field, DataErrorKind kind)
    {
        var e = ParseError(csv, "bad.csv");
        AssertError(e, kind, line, field);
        Assert.StartsWith($"bad.csv:{line}: ", e.Message);
    }

    [Fact]
    public void TextThatMerelyLooksLikeJsonIsKept()
    {
        var d = Parse("prompt,completion,label\n\"[{\"\"a\"\": 1}]\",\"[role, content]\",true\n", "f.csv");
        Assert.Equal("[{\"a\": 1}]", d.Examples[0].Prompt.Text);
    }

    [Fact]
    public void AQuoteThatNeverClosesStopsEvenWhenSkipping()
    {
        const string csv = "prompt,completion,label\np,c,true\n\"open,c,true\np,c,true\n";
        var e = Assert.Throws<DataFormatException>(() => Parse(csv, "q.csv", skip: true));
        AssertError(e, DataErrorKind.MalformedCsv, 3, null);
        Assert.Contains("never closed", e.Reason);
    }

    [Fact]
    public void HeaderProblems()
    {
        var dup = ParseError("prompt,completion,prompt\na,b,c\n", "h.csv");
        AssertError(dup, DataErrorKind.UnsupportedLayout, 1, "prompt");
        var unknown = ParseError("\n\nquestion,answer\na,b\n", "h.csv");
        AssertError(unknown, DataErrorKind.UnsupportedLayout, 3, null);
        Assert.Contains("'question', 'answer'", unknown.Reason);
        var headerOnly = ParseError("prompt,completion,label\n", "h.csv");
        AssertError(headerOnly, DataErrorKind.UnsupportedLayout, null, null);
    }

    [Fact]
    public void InvalidUtf8InsideAMultiLineRecordNamesThatLine()
    {
        byte[] file =
        [
            .. Encoding.UTF8.GetBytes("prompt,completion,label\np,c,true\n\"line three\nline "), 0xFF,
            .. Encoding.UTF8.GetBytes(" four\",c,true\np,c,false\n"),
        ];
        var e = Assert.Throws<DataFormatException>(() => FeedbackFileReader.Parse(file, "u.csv"));
        AssertError(e, DataErrorKind.InvalidUtf8, 4, null);
        var d = FeedbackFileReader.Parse(file, "u.csv", new FeedbackReadOptions { SkipBadRows = true });
        Assert.Equal([2, 5], d.Examples.Select(x => x.Line));
        Assert.Equal(4, Assert.Single(d.SkippedRows).Line);
    }
}
