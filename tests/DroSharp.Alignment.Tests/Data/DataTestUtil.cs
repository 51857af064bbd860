using System.Text;
using DroSharp.Alignment.Data;

namespace DroSharp.Alignment.Tests.Data;

internal static class DataTestUtil
{
    public static FeedbackDataset Parse(string content, string fileName = "data.jsonl", bool skip = false, DataFileFormat format = DataFileFormat.Auto) =>
        FeedbackFileReader.Parse(Encoding.UTF8.GetBytes(content), fileName, new FeedbackReadOptions { SkipBadRows = skip, Format = format });

    public static DataFormatException ParseError(string content, string fileName = "data.jsonl") =>
        Assert.Throws<DataFormatException>(() => Parse(content, fileName));

    /// <summary>One character code per token plus an end-of-sequence id 1, like a toy tokenizer.</summary>
    public static readonly ITextEncoder CharEncoder = ITextEncoder.From(s => s.Select(c => (int)c).Append(1).ToArray());

    public static void AssertError(DataFormatException e, DataErrorKind kind, int? line, string? field)
    {
        Assert.Equal(kind, e.Kind);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
    }
}
