using System.Text.Json;
using DroSharp.Text.Templates;

namespace DroSharp.Text.Tests.Templates;

/// <summary>
/// The 125 golden cases of Fixtures/chat-templates (13 real templates; expected outputs from transformers'
/// Jinja2 setup, cross-checked with Python Jinja2 3.1.6): every rendering byte for byte, every raise_exception
/// message exactly.
/// </summary>
public class GoldenChatTemplateTests
{
    public static readonly DateTime FrozenNow = new(2025, 3, 7, 9, 5, 3);

    private static string Folder(string family) => Fixtures.PathOf(Path.Combine("chat-templates", family));

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var dir in Directory.GetDirectories(Fixtures.PathOf("chat-templates")).Order(StringComparer.Ordinal))
        {
            string family = Path.GetFileName(dir);
            int n = Fixtures.Lines(Path.Combine("chat-templates", family, "cases.jsonl")).Count;
            for (int i = 0; i < n; i++) data.Add(family, i);
        }
        return data;
    }

    [Fact]
    public void There_are_125_cases_in_13_families_and_9_raise()
    {
        var cases = Cases();
        Assert.Equal(125, cases.Count());
        Assert.Equal(13, cases.Select(c => (string)c[0]).Distinct().Count());
        int raising = cases.Count(c => Fixtures.Lines(Path.Combine("chat-templates", (string)c[0], "cases.jsonl"))[(int)c[1]].TryGetProperty("error", out _));
        Assert.Equal(9, raising);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_like_transformers(string family, int line)
    {
        var c = Fixtures.Lines(Path.Combine("chat-templates", family, "cases.jsonl"))[line];
        var template = ChatTemplate.FromModelDirectory(Folder(family));
        Assert.NotNull(template);
        template.Clock = () => FrozenNow;

        var messages = ChatMessage.ListFromJson(c.GetProperty("messages"));
        bool addGenerationPrompt = c.GetProperty("add_generation_prompt").GetBoolean();
        var extra = new Dictionary<string, object?>();
        IReadOnlyList<object?>? tools = null, documents = null;
        foreach (var p in c.GetProperty("extra").EnumerateObject())
        {
            if (p.Name == "tools") tools = JsonList(p.Value);
            else if (p.Name == "documents") documents = JsonList(p.Value);
            else extra[p.Name] = p.Value;
        }

        if (c.TryGetProperty("error", out var error))
        {
            var e = Assert.Throws<ChatTemplateException>(() => template.Render(messages, addGenerationPrompt, extra, tools: tools, documents: documents));
            Assert.True(e.RaisedByTemplate);
            Assert.Equal(error.GetString(), e.Message);
        }
        else
        {
            string rendered = template.Render(messages, addGenerationPrompt, extra, tools: tools, documents: documents);
            Assert.Equal(c.GetProperty("expected").GetString(), rendered);
        }
    }

    private static IReadOnlyList<object?>? JsonList(JsonElement e) =>
        e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(x => (object?)x).ToList();

    /// <summary>The special tokens read from tokenizer_config.json are the ones transformers passed to the golden renderings.</summary>
    [Theory]
    [InlineData("qwen3")]
    [InlineData("gemma-3-it")]
    [InlineData("deepseek-r1-distill-qwen")]
    public void Special_tokens_from_tokenizer_config_match_transformers_special_tokens_map(string family)
    {
        var template = ChatTemplate.FromModelDirectory(Folder(family))!;
        var extra = Fixtures.Lines(Path.Combine("chat-templates", family, "cases.jsonl"))[0].GetProperty("extra");
        string[] standard = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens"];
        var expected = extra.EnumerateObject().Where(p => standard.Contains(p.Name))
            .ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Array ? string.Join("|", p.Value.EnumerateArray().Select(x => x.GetString())) : p.Value.GetString());
        var actual = template.SpecialTokens.Where(kv => standard.Contains(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value is IEnumerable<string> list ? string.Join("|", list) : (string?)kv.Value);
        Assert.Equal(expected.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void Gemma3_extra_special_tokens_are_passed_too()
    {
        var template = ChatTemplate.FromModelDirectory(Folder("gemma-3-it"))!;
        Assert.Equal("<start_of_image>", template.SpecialTokens["boi_token"]);
        Assert.Equal("<image_soft_token>", template.SpecialTokens["image_token"]);
    }
}
