using System.Text.Json;
using DroSharp.Text.Templates;

namespace DroSharp.Text.Tests.Templates;

/// <summary>
/// Renderings by Python Jinja2 3.1.6 itself, configured as transformers configures it
/// (Fixtures/generate/make_jinja2_reference.py): hand-written Python/Jinja2 pitfalls (output and error message
/// compared exactly) and seeded random expressions and whitespace-control templates (output exactly, errors by
/// their Python class).
/// </summary>
public class Jinja2ReferenceTests
{
    private const string File = "jinja2-reference.jsonl";

    private static Dictionary<string, object?> Variables()
    {
        var vars = Fixtures.Lines(File)[0].GetProperty("vars");
        return vars.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
    }

    public static TheoryData<int> Rows(string kind)
    {
        var data = new TheoryData<int>();
        var lines = Fixtures.Lines(File);
        for (int i = 1; i < lines.Count; i++)
            if (lines[i].GetProperty("kind").GetString() == kind) data.Add(i);
        return data;
    }

    public static TheoryData<int> CaseRows() => Rows("case");
    public static TheoryData<int> RandomRows() => Rows("random");

    [Theory]
    [MemberData(nameof(CaseRows))]
    public void Hand_written_case_matches_jinja2(int line) => Check(line, compareMessages: true);

    [Theory]
    [MemberData(nameof(RandomRows))]
    public void Random_template_matches_jinja2(int line) => Check(line, compareMessages: false);

    private static readonly System.Text.RegularExpressions.Regex AddressPattern = new(" at 0x[0-9a-f]+");

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Quote(string? s) => s == null ? "null" : JsonSerializer.Serialize(s, Relaxed);

    private static void Check(int line, bool compareMessages)
    {
        var row = Fixtures.Lines(File)[line];
        string source = row.GetProperty("template").GetString()!;
        string? rendered = null;
        ChatTemplateException? error = null;
        try
        {
            var template = new ChatTemplate(source) { Clock = () => GoldenChatTemplateTests.FrozenNow };
            rendered = template.RenderVariables(Variables());
        }
        catch (ChatTemplateException e)
        {
            error = e;
        }
        string actual = error == null ? $"rendered {Quote(rendered)}" : $"raised {error.ErrorType}: {error.Message}";
        if (row.TryGetProperty("expected", out var expected))
        {
            // CPython prints object addresses (<generator object f at 0x7f…>); ours have none.
            string want = AddressPattern.Replace(expected.GetString()!, "");
            Assert.True(error == null && want == rendered, $"template {Quote(source)}\nJinja2 rendered {Quote(want)}\nDroSharp {actual}");
            return;
        }
        string errorType = row.GetProperty("error_type").GetString()!;
        string message = row.GetProperty("error").GetString()!;
        if (errorType == "SyntaxError") errorType = "TemplateSyntaxError"; // Python's own compile error ('break' outside loop)
        Assert.True(error != null && error.ErrorType == errorType, $"template {Quote(source)}\nJinja2 raised {errorType}: {message}\nDroSharp {actual}");
        if (!compareMessages) return;
        if (error!.RaisedByTemplate) Assert.Equal(message, error.Message);
        else if (errorType != "TemplateSyntaxError") Assert.EndsWith(": " + errorType + ": " + message, error.Message);
        Assert.Contains("line", error.RaisedByTemplate ? "line" : error.Message);
    }
}
