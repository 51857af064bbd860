using System.Text.Json;
using DroSharp.Text.Templates;

namespace DroSharp.Text.Tests.Templates;

/// <summary>
/// The conversational split computed by TRL's own <c>apply_chat_template</c> (trl/data_utils.py) over
/// transformers' own <c>render_jinja_template</c> (4.55.0, with Jinja2 3.1.6), for rows built from the 13 golden
/// families' conversations (Fixtures/generate/make_trl_reference.py): same prompt, completion, chosen,
/// rejected and text, and the same failures.
/// </summary>
public class TrlReferenceTests
{
    private const string File = "trl-reference.jsonl";

    public static TheoryData<int> Rows()
    {
        var data = new TheoryData<int>();
        int n = Fixtures.Lines(File).Count;
        for (int i = 0; i < n; i++) data.Add(i);
        return data;
    }

    private static ChatTemplate Template(string family, JsonElement specials)
    {
        var found = ChatTemplate.FromModelDirectory(Fixtures.PathOf(Path.Combine("chat-templates", family)))!;
        var tokens = specials.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        return new ChatTemplate(found.Source, tokens, found.SourceName) { Clock = () => GoldenChatTemplateTests.FrozenNow };
    }

    [Fact]
    public void The_reference_covers_every_row_form()
    {
        var forms = Fixtures.Lines(File).Select(r => string.Join("+", r.GetProperty("row").EnumerateObject()
            .Select(p => p.Name).Where(k => k is "prompt" or "completion" or "chosen" or "rejected" or "messages").Order())).ToHashSet();
        Assert.Equal(["chosen+prompt+rejected", "chosen+rejected", "completion+prompt", "messages"], forms.Order());
        Assert.True(Fixtures.Lines(File).Count(r => r.TryGetProperty("output", out _)) >= 250);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Split_matches_trl(int line)
    {
        var r = Fixtures.Lines(File)[line];
        var renderer = new ConversationRenderer(Template(r.GetProperty("family").GetString()!, r.GetProperty("special_tokens")));
        var row = r.GetProperty("row");
        if (r.TryGetProperty("error", out var error))
        {
            var e = Assert.ThrowsAny<Exception>(() => renderer.Render(row));
            if (r.GetProperty("error_type").GetString() == "TemplateError")
                Assert.Equal(error.GetString(), Assert.IsType<ChatTemplateException>(e).Message);
            return;
        }
        var output = r.GetProperty("output");
        var text = renderer.Render(row);
        string? Expected(string key) => output.TryGetProperty(key, out var v) ? v.GetString() : null;
        Assert.Equal(Expected("prompt"), text.Prompt);
        Assert.Equal(Expected("completion"), text.Completion);
        Assert.Equal(Expected("chosen"), text.Chosen);
        Assert.Equal(Expected("rejected"), text.Rejected);
        Assert.Equal(Expected("text"), text.Text);
    }
}
