using System.Text;
using DroSharp.Alignment.Data;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

/// <summary>Every kind of bad row names the file, the 1-based physical line and the field.</summary>
public class DataErrorTests
{
    private const string Good = "{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true}";
    private const string GoodScored = "{\"prompt\":\"p\",\"completion\":\"c\",\"reward\":0.5}";

    /// <summary>Two good lines, a blank one, then <paramref name="bad"/> on line 4.</summary>
    private static DataFormatException OnLine4(string bad, string first = Good) =>
        ParseError($"{first}\n{first}\n\n{bad}\n{first}\n", "feedback.jsonl");

    [Theory]
    [InlineData("{\"completion\":\"c\",\"label\":true}", "prompt")]
    [InlineData("{\"prompt\":\"p\",\"label\":true}", "completion")]
    [InlineData("{\"prompt\":null,\"completion\":\"c\",\"label\":true}", "prompt")]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":null}", "label")]
    public void MissingField(string bad, string field)
    {
        var e = OnLine4(bad);
        AssertError(e, DataErrorKind.MissingField, 4, field);
        Assert.StartsWith($"feedback.jsonl:4: field '{field}': ", e.Message);
    }

    [Fact]
    public void MissingLabelInALabelledFileIsAMissingField()
    {
        // Without a label the row looks like prompt/completion data, but the file's kind is labelled.
        AssertError(OnLine4("{\"prompt\":\"p\",\"completion\":\"c\"}"), DataErrorKind.MissingField, 4, "label");
        AssertError(OnLine4("{\"prompt\":\"p\",\"completion\":\"c\"}", GoodScored), DataErrorKind.MissingField, 4, "reward");
    }

    [Theory]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":\"yes\"}", "label")]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":2}", "label")]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":[true]}", "label")]
    [InlineData("{\"prompt\":5,\"completion\":\"c\",\"label\":true}", "prompt")]
    [InlineData("{\"prompt\":\"p\",\"completion\":{\"text\":\"c\"},\"label\":true}", "completion")]
    [InlineData("{\"prompt\":[\"a\",\"b\"],\"completion\":\"c\",\"label\":true}", "prompt")]
    public void WrongType(string bad, string field) => AssertError(OnLine4(bad), DataErrorKind.WrongType, 4, field);

    [Theory]
    [InlineData("true")]
    [InlineData("\"high\"")]
    [InlineData("[1]")]
    public void RewardOfWrongType(string value) =>
        AssertError(OnLine4($"{{\"prompt\":\"p\",\"completion\":\"c\",\"reward\":{value}}}", GoodScored), DataErrorKind.WrongType, 4, "reward");

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("\"NaN\"")]
    [InlineData("\"nan\"")]
    [InlineData("\"-inf\"")]
    [InlineData("1e400")]
    [InlineData("-1e999")]
    public void NonFiniteReward(string value)
    {
        var e = OnLine4($"{{\"prompt\":\"p\",\"completion\":\"c\",\"reward\":{value}}}", GoodScored);
        AssertError(e, DataErrorKind.NonFiniteReward, 4, "reward");
        Assert.Contains("finite", e.Reason);
    }

    [Fact]
    public void BareNaNOutsideARewardIsTheWrongType()
    {
        var e = OnLine4("{\"prompt\":NaN,\"completion\":\"c\",\"label\":true}");
        AssertError(e, DataErrorKind.WrongType, 4, "prompt");
        Assert.Equal("expected a string, got the bare literal NaN", e.Reason);
        AssertError(OnLine4("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":Infinity}"), DataErrorKind.WrongType, 4, "label");
        AssertError(OnLine4("{\"prompt_ids\":[1,NaN],\"completion\":\"c\",\"label\":true}"), DataErrorKind.InvalidTokenIds, 4, "prompt_ids");
    }

    /// <summary>
    /// Text may start with a Unicode noncharacter (valid in JSON and UTF-8): it is not the reader's internal mark of a
    /// bare NaN/Infinity (found by the property test JsonlRowsReadBackAsWritten with a completion "\uFDD0d&lt;&gt;…").
    /// </summary>
    [Theory]
    [InlineData("\\uFDD0d<>")]
    [InlineData("\\ufdd0NaN")]
    [InlineData("\\uFDD0\\uFDEF")]
    [InlineData("\\uFDD0\\uFDEFNaN!")]
    public void TextStartingWithANoncharacterIsJustText(string escaped)
    {
        string json = "{\"prompt\":\"" + escaped + "\",\"completion\":\"" + escaped + "\",\"reward\":NaN}";
        var e = OnLine4(json, GoodScored);
        AssertError(e, DataErrorKind.NonFiniteReward, 4, "reward"); // the bare NaN is still seen, in the field that holds it
        var d = Parse("{\"prompt\":\"" + escaped + "\",\"completion\":\"" + escaped + "\",\"reward\":1}");
        string text = System.Text.Json.JsonSerializer.Deserialize<string>("\"" + escaped + "\"")!;
        Assert.Equal(text, d.Examples[0].Prompt.Text);
        Assert.Equal(text, d.Examples[0].Completion.Text);
    }

    [Fact]
    public void BareNaNInsideAStringIsJustText()
    {
        var d = Parse("{\"prompt\":\"NaN Infinity\",\"completion\":\"say \\\"NaN\\\" -Infinity\",\"reward\":1}");
        Assert.Equal("NaN Infinity", d.Examples[0].Prompt.Text);
        Assert.Equal("say \"NaN\" -Infinity", d.Examples[0].Completion.Text);
    }

    [Theory]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"\",\"label\":true}", "completion")]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"  \\n \",\"label\":true}", "completion")]
    [InlineData("{\"prompt\":\"p\",\"completion_ids\":[],\"label\":true}", "completion_ids")]
    public void EmptyCompletion(string bad, string field) => AssertError(OnLine4(bad), DataErrorKind.EmptyCompletion, 4, field);

    [Fact]
    public void EmptyChosenOrRejected()
    {
        const string pair = "{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected\":\"r\"}";
        AssertError(OnLine4("{\"prompt\":\"p\",\"chosen\":\"\",\"rejected\":\"r\"}", pair), DataErrorKind.EmptyCompletion, 4, "chosen");
        AssertError(OnLine4("{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected_ids\":[]}", pair), DataErrorKind.EmptyCompletion, 4, "rejected_ids");
        AssertError(OnLine4("{\"prompt\":\"p\",\"chosen\":\"c\"}", pair), DataErrorKind.MissingField, 4, "rejected");
    }

    [Fact]
    public void EmptyPromptIsAllowed()
    {
        Assert.Equal("", Parse("{\"prompt\":\"\",\"completion\":\"c\",\"label\":true}").Examples[0].Prompt.Text);
    }

    [Fact]
    public void InvalidUtf8NamesTheLineAndByte()
    {
        byte[] bad = [.. Encoding.UTF8.GetBytes("{\"prompt\":\"ab"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\",\"completion\":\"c\",\"label\":true}")];
        var lines = new List<byte[]> { Encoding.UTF8.GetBytes(Good), Encoding.UTF8.GetBytes(Good), bad, Encoding.UTF8.GetBytes(Good) };
        byte[] file = lines.SelectMany(l => l.Append((byte)'\n')).ToArray();
        var e = Assert.Throws<DataFormatException>(() => FeedbackFileReader.Parse(file, "bytes.jsonl"));
        AssertError(e, DataErrorKind.InvalidUtf8, 3, null);
        Assert.Contains("byte 14", e.Reason);

        var skipped = FeedbackFileReader.Parse(file, "bytes.jsonl", new FeedbackReadOptions { SkipBadRows = true });
        Assert.Equal(3, skipped.Count);
        Assert.Equal(3, Assert.Single(skipped.SkippedRows).Line);
    }

    [Fact]
    public void LoneSurrogateEscapeIsReported()
    {
        AssertError(OnLine4("{\"prompt\":\"\\ud800\",\"completion\":\"c\",\"label\":true}"), DataErrorKind.InvalidUtf8, 4, "prompt");
    }

    /// <summary>Conversational rows are read (see ConversationalRowTests); mixing them with plain ones, or a lone message object, is not.</summary>
    [Theory]
    [InlineData("{\"prompt\":[{\"role\":\"user\",\"content\":\"hi\"}],\"completion\":\"c\",\"label\":true}", "prompt", "line 1 holds plain text")]
    [InlineData("{\"prompt\":\"p\",\"completion\":[{\"role\":\"assistant\",\"content\":\"hello\"}],\"label\":true}", "completion", "'prompt' is plain text")]
    [InlineData("{\"prompt\":\"p\",\"completion\":{\"role\":\"assistant\",\"content\":\"hello\"},\"label\":true}", "completion", "single message object")]
    public void ConversationalFormat(string bad, string field, string reason)
    {
        var e = OnLine4(bad);
        AssertError(e, DataErrorKind.ConversationalFormat, 4, field);
        Assert.Contains(reason, e.Reason);
    }

    [Theory]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true")]
    [InlineData("{\"prompt\":\"p\" \"completion\":\"c\"}")]
    [InlineData("{'prompt':'p'}")]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true} trailing")]
    [InlineData("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true,}")]
    public void MalformedJson(string bad)
    {
        var e = OnLine4(bad);
        AssertError(e, DataErrorKind.MalformedJson, 4, null);
        Assert.StartsWith("malformed JSON", e.Reason);
    }

    [Fact]
    public void MalformedJsonMessageSaysWhereInTheLine()
    {
        var e = OnLine4("{\"prompt\": }");
        Assert.Equal("feedback.jsonl:4: malformed JSON: '}' is an invalid start of a value. (at byte 12)", e.Message);
    }

    [Fact]
    public void NonObjectAndDuplicateKeyRows()
    {
        AssertError(OnLine4("[1, 2]"), DataErrorKind.MalformedJson, 4, null);
        AssertError(OnLine4("\"just a string\""), DataErrorKind.MalformedJson, 4, null);
        AssertError(OnLine4("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true,\"prompt\":\"q\"}"), DataErrorKind.MalformedJson, 4, "prompt");
    }

    [Theory]
    [InlineData("[1, -2]", "element 1")]
    [InlineData("[1.5]", "element 0")]
    [InlineData("[\"3\"]", "element 0")]
    [InlineData("[2147483648]", "element 0")]
    [InlineData("[1e2]", "element 0")]
    [InlineData("\"[1, 2]\"", "string")]
    [InlineData("7", "number")]
    public void InvalidTokenIds(string ids, string mention)
    {
        var e = OnLine4($"{{\"prompt_ids\":{ids},\"completion\":\"c\",\"label\":true}}");
        AssertError(e, DataErrorKind.InvalidTokenIds, 4, "prompt_ids");
        Assert.Contains(mention, e.Reason);
    }

    [Fact]
    public void ColumnsOfAnotherKindAreInconsistent()
    {
        const string sft = "{\"prompt\":\"p\",\"completion\":\"c\"}";
        AssertError(OnLine4("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true}", sft), DataErrorKind.InconsistentColumns, 4, "label");
        AssertError(OnLine4("{\"prompt\":\"p\",\"completion\":\"c\",\"reward\":1}", sft), DataErrorKind.InconsistentColumns, 4, "reward");
        var e = OnLine4("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true,\"reward\":1}");
        AssertError(e, DataErrorKind.InconsistentColumns, 4, "reward");
        Assert.Contains("line 1", e.Reason);
        AssertError(OnLine4("{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected\":\"r\"}"), DataErrorKind.InconsistentColumns, 4, "chosen");
    }

    [Fact]
    public void UnknownColumnsAreAFileError()
    {
        var e = ParseError("{\"text\":\"hello\"}\n");
        AssertError(e, DataErrorKind.UnsupportedLayout, 1, null);
        Assert.Contains("'text'", e.Reason);
        Assert.Contains("prompt+completion+label", e.Reason);
        // Even when skipping bad rows: a layout problem is not one bad row.
        Assert.Throws<DataFormatException>(() => Parse("{\"text\":\"hello\"}\n" + Good, skip: true));
    }

    [Fact]
    public void EmptyFilesAndUnknownExtensions()
    {
        AssertError(ParseError(""), DataErrorKind.UnsupportedLayout, null, null);
        AssertError(ParseError("\n  \n\n"), DataErrorKind.UnsupportedLayout, null, null);
        AssertError(ParseError("", "data.csv"), DataErrorKind.UnsupportedLayout, null, null);
        var e = ParseError(Good, "data.parquet");
        AssertError(e, DataErrorKind.UnsupportedLayout, null, null);
        Assert.Contains(".parquet", e.Message);
    }

    [Fact]
    public void MessageFormat()
    {
        var e = OnLine4("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":\"maybe\"}");
        Assert.Equal("feedback.jsonl:4: field 'label': expected true/false or 1/0, got the string \"maybe\"", e.Message);
        Assert.Equal("feedback.jsonl", e.File);
    }
}
