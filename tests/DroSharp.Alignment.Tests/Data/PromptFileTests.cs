using System.Text;
using DroSharp.Alignment.Data;

namespace DroSharp.Alignment.Tests.Data;

public class PromptFileTests
{
    private static PromptFile Parse(string content, string name, bool skip = false) =>
        FeedbackFileReader.ParsePrompts(Encoding.UTF8.GetBytes(content), name, new FeedbackReadOptions { SkipBadRows = skip });

    [Fact]
    public void ReadsPromptsAndIgnoresOtherColumns()
    {
        var p = Parse("{\"prompt\":\"Translate: hi\"}\n\n{\"prompt_ids\":[3,4,1],\"completion\":\"whatever\",\"label\":\"not checked\"}\n", "p.jsonl");
        Assert.Equal(["Translate: hi", "[3, 4, 1]"], p.Prompts.Select(x => x.Prompt.ToString()));
        Assert.Equal([1, 3], p.Prompts.Select(x => x.Line));
        var csv = Parse("id,prompt\n1,\"a, b\"\n2,c\n", "p.csv");
        Assert.Equal(["a, b", "c"], csv.Prompts.Select(x => x.Prompt.Text));
    }

    [Fact]
    public void ErrorsAndSkipping()
    {
        var e = Assert.Throws<DataFormatException>(() => Parse("id,text\n1,a\n", "p.csv"));
        Assert.Equal(DataErrorKind.UnsupportedLayout, e.Kind);
        Assert.Contains("'prompt'", e.Reason);
        var row = Assert.Throws<DataFormatException>(() => Parse("{\"prompt\":\"a\"}\n{\"prompt\":[{\"role\":\"user\",\"content\":\"x\"}]}\n", "p.jsonl"));
        Assert.Equal((2, "prompt", DataErrorKind.ConversationalFormat), (row.Line!.Value, row.Field!, row.Kind));
        var skipped = Parse("{\"prompt\":\"a\"}\n{\"text\":\"b\"}\n{\"prompt\":\"c\"}\n", "p.jsonl", skip: true);
        Assert.Equal(2, skipped.Prompts.Count);
        Assert.Equal((2, "prompt", DataErrorKind.MissingField), (skipped.SkippedRows[0].Line, skipped.SkippedRows[0].Field, skipped.SkippedRows[0].Kind));
    }
}
