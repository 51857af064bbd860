using System.Text.Json;
using DroSharp.Alignment.Data;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

/// <summary>Reading TRL's conversational rows: every form, and malformed messages named by file, line and field.</summary>
public class ConversationalRowTests
{
    private const string User = """{"role": "user", "content": "What colour is the sky?"}""";
    private const string Blue = """{"role": "assistant", "content": "It is blue."}""";
    private const string Green = """{"role": "assistant", "content": "It is green."}""";

    private static string Roles(TextOrIds messages) =>
        string.Join(",", messages.Messages!.Value.EnumerateArray().Select(m => m.GetProperty("role").GetString()));

    private static string LastContent(TextOrIds messages) => messages.Messages!.Value.EnumerateArray().Last().GetProperty("content").GetString()!;

    [Fact]
    public void PromptAndCompletionAsMessagesWithLabels()
    {
        var d = Parse($$"""
            {"prompt": [{{User}}], "completion": [{{Blue}}], "label": true}
            {"prompt": [{"role": "system", "content": "Be brief."}, {{User}}], "completion": [{{Green}}], "label": false}
            """);
        Assert.Equal(DatasetKind.LabelledFeedback, d.Kind);
        Assert.True(d.IsConversational);
        var x = d.Examples[1];
        Assert.True(x.Prompt.IsConversational && x.Completion.IsConversational);
        Assert.Null(x.Prompt.Text);
        Assert.Equal("system,user", Roles(x.Prompt));
        Assert.Equal("It is green.", LastContent(x.Completion));
        Assert.Equal(false, x.Label);
        Assert.Equal((2, "prompt"), (x.Line, x.Chat!.MessagesColumn));
        Assert.Null(x.Chat.TemplateKwargs);
        Assert.Throws<InvalidOperationException>(() => x.Prompt.ToIds(CharEncoder, completion: false));
    }

    [Fact]
    public void AStringCompletionAfterAConversationalPromptIsOneAssistantMessage()
    {
        var x = Parse($$"""{"prompt": [{{User}}], "completion": "Blue.", "reward": 0.5}""").Examples[0];
        Assert.Equal("assistant", Roles(x.Completion));
        Assert.Equal("Blue.", LastContent(x.Completion));
        Assert.Equal(0.5, x.Reward);
    }

    [Fact]
    public void MessagesRowsSplitAtTheLastAssistantMessage()
    {
        var d = Parse($$"""
            {"messages": [{{User}}, {{Blue}}]}
            {"messages": [{{User}}, {{Blue}}, {"role": "user", "content": "And at night?"}, {"role": "assistant", "content": "Black."}]}
            """);
        Assert.Equal(DatasetKind.PromptCompletion, d.Kind);
        Assert.Equal("user", Roles(d.Examples[0].Prompt));
        Assert.Equal("user,assistant,user", Roles(d.Examples[1].Prompt));
        Assert.Equal("Black.", LastContent(d.Examples[1].Completion));
        Assert.Equal("messages", d.Examples[1].Chat!.MessagesColumn);

        var labelled = Parse($$"""{"messages": [{{User}}, {{Blue}}], "label": false}""");
        Assert.Equal(DatasetKind.LabelledFeedback, labelled.Kind);
        Assert.Equal(false, labelled.Examples[0].Label);
    }

    [Fact]
    public void PairsWithAnExplicitOrAnImplicitPrompt()
    {
        var explicitPrompt = Parse($$"""{"prompt": [{{User}}], "chosen": [{{Blue}}], "rejected": [{{Green}}]}""").Pairs[0];
        Assert.Equal("user", Roles(explicitPrompt.Prompt));
        Assert.Equal("It is green.", LastContent(explicitPrompt.Rejected));

        // TRL's extract_prompt: the leading messages chosen and rejected share are the prompt.
        var implicitPrompt = Parse($$"""{"chosen": [{{User}}, {{Blue}}], "rejected": [{{User}}, {{Green}}]}""").Pairs[0];
        Assert.Equal("user", Roles(implicitPrompt.Prompt));
        Assert.Equal("It is blue.", LastContent(implicitPrompt.Chosen));
        Assert.Equal("It is green.", LastContent(implicitPrompt.Rejected));
        Assert.Equal("chosen", implicitPrompt.Chat!.MessagesColumn);
        Assert.Equal(explicitPrompt.Prompt, implicitPrompt.Prompt); // same messages, same prompt group

        // Pairs become two labelled rows (DRO, KTO) or the chosen row (SFT), keeping the conversation.
        var rows = Parse($$"""{"chosen": [{{User}}, {{Blue}}], "rejected": [{{User}}, {{Green}}]}""").ExpandPairs().Examples;
        Assert.Equal([true, false], rows.Select(r => r.Label!.Value));
        Assert.All(rows, r => Assert.NotNull(r.Chat));
    }

    [Fact]
    public void ChatTemplateKwargsAndToolsPerRow()
    {
        var x = Parse($$$"""
            {"prompt": [{{{User}}}], "completion": [{{{Blue}}}], "chat_template_kwargs": {"enable_thinking": false}, "tools": "[{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]"}
            """).Examples[0];
        Assert.False(x.Chat!.TemplateKwargs!.Value.GetProperty("enable_thinking").GetBoolean());
        Assert.Equal("f", x.Chat.Tools!.Value[0].GetProperty("function").GetProperty("name").GetString());
        var none = Parse($$"""{"prompt": [{{User}}], "completion": [{{Blue}}], "chat_template_kwargs": null, "tools": []}""").Examples[0];
        Assert.Null(none.Chat!.TemplateKwargs);
        Assert.Null(none.Chat.Tools);
    }

    [Fact]
    public void CsvCellsHoldMessagesAsJson()
    {
        string Cell(string json) => "\"" + json.Replace("\"", "\"\"") + "\"";
        var d = Parse($"prompt,completion,label\n{Cell($"[{User}]")},{Cell($"[{Blue}]")},true\n{Cell($"[{User}]")},It is red.,false\n", "log.csv");
        Assert.True(d.IsConversational);
        Assert.Equal("It is red.", LastContent(d.Examples[1].Completion));
        Assert.Equal(d.Examples[0].Prompt, d.Examples[1].Prompt);
    }

    [Fact]
    public void PromptFilesTakeConversationalPrompts()
    {
        var p = FeedbackFileReader.ParsePrompts(System.Text.Encoding.UTF8.GetBytes($$$"""
            {"prompt": [{{{User}}}], "chat_template_kwargs": {"enable_thinking": true}}
            {"prompt": [{"role": "user", "content": "Hi"}]}
            """), "p.jsonl");
        Assert.Equal(2, p.Prompts.Count);
        Assert.True(p.Prompts[0].Prompt.IsConversational);
        Assert.True(p.Prompts[0].Chat!.TemplateKwargs!.Value.GetProperty("enable_thinking").GetBoolean());
        var mixed = Assert.Throws<DataFormatException>(() => FeedbackFileReader.ParsePrompts(
            System.Text.Encoding.UTF8.GetBytes("{\"prompt\": \"plain\"}\n{\"prompt\": [{\"role\": \"user\", \"content\": \"x\"}]}\n"), "p.jsonl"));
        AssertError(mixed, DataErrorKind.ConversationalFormat, 2, "prompt");
    }

    [Fact]
    public void TokenIdRowsFitEitherForm()
    {
        var d = Parse($$"""
            {"prompt": [{{User}}], "completion": [{{Blue}}], "label": true}
            {"prompt_ids": [5, 6], "completion_ids": [7], "label": false}
            """);
        Assert.Equal(2, d.Examples.Count);
    }

    /// <summary>Line 2 is bad; line 1 is a good conversational row so the file's kind and form are fixed.</summary>
    [Theory]
    [InlineData("""{"prompt": [{"content": "hi"}], "completion": "c", "label": true}""", "prompt", DataErrorKind.MalformedMessages, "message [0] has no \"role\"")]
    [InlineData("""{"prompt": [{"role": 3, "content": "hi"}], "completion": "c", "label": true}""", "prompt", DataErrorKind.MalformedMessages, "\"role\" must be a string")]
    [InlineData("""{"prompt": [{"role": "user", "content": 7}], "completion": "c", "label": true}""", "prompt", DataErrorKind.MalformedMessages, "message [0]: \"content\" must be a string")]
    [InlineData("""{"prompt": [{"role": "user", "content": "a"}, "b"], "completion": "c", "label": true}""", "prompt", DataErrorKind.MalformedMessages, "message [1] is a string")]
    [InlineData("""{"prompt": [{"role": "user", "content": NaN}], "completion": "c", "label": true}""", "prompt", DataErrorKind.WrongType, "bare literal NaN")]
    [InlineData("""{"prompt": [{"role": "user", "content": "\ud800"}], "completion": "c", "label": true}""", "prompt", DataErrorKind.InvalidUtf8, "surrogate")]
    [InlineData("""{"prompt": [{"role": "system", "content": "s"}], "completion": "c", "label": true}""", "prompt", DataErrorKind.MalformedMessages, "last message is from \"system\"")]
    [InlineData("""{"prompt": {"role": "user", "content": "hi"}, "completion": "c", "label": true}""", "prompt", DataErrorKind.ConversationalFormat, "single message object")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "completion": [], "label": true}""", "completion", DataErrorKind.WrongType, "got an array")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "completion": [{"role": "assistant", "content": "  "}], "label": true}""", "completion", DataErrorKind.EmptyCompletion, "no text")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "completion": "", "label": true}""", "completion", DataErrorKind.EmptyCompletion, "needs some text")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "completion_ids": [4], "label": true}""", "completion_ids", DataErrorKind.ConversationalFormat, "token ids cannot follow")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "prompt_ids": [4], "completion": "c", "label": true}""", "prompt_ids", DataErrorKind.ConversationalFormat, "not both")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "completion": "c", "label": true, "chat_template_kwargs": [1]}""", "chat_template_kwargs", DataErrorKind.WrongType, "expected an object")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "completion": "c", "label": true, "tools": {"a": 1}}""", "tools", DataErrorKind.WrongType, "expected a list")]
    [InlineData("""{"prompt": [{"role": "user", "content": "hi"}], "completion": "c", "label": true, "tools": "not json"}""", "tools", DataErrorKind.WrongType, "not JSON text")]
    [InlineData("""{"prompt": "plain", "completion": "c", "label": true}""", "prompt", DataErrorKind.ConversationalFormat, "line 1 holds a conversation")]
    public void MalformedConversationalRowsAreNamed(string bad, string field, DataErrorKind kind, string reason)
    {
        const string good = """{"prompt": [{"role": "user", "content": "hi"}], "completion": [{"role": "assistant", "content": "yo"}], "label": true}""";
        var e = ParseError(good + "\n" + bad + "\n" + good + "\n", "chat.jsonl");
        AssertError(e, kind, 2, field);
        Assert.StartsWith($"chat.jsonl:2: field '{field}': ", e.Message);
        Assert.Contains(reason, e.Reason);
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}]}""", DataErrorKind.MalformedMessages, "no assistant message")]
    [InlineData("""{"messages": [{"role": "assistant", "content": "hi"}]}""", DataErrorKind.MalformedMessages, "first message")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "?"}]}""", DataErrorKind.MalformedMessages, "message [2] (\"user\") follows the last assistant message")]
    [InlineData("""{"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "yo"}]}""", DataErrorKind.MalformedMessages, "last message is from \"system\"")]
    [InlineData("""{"messages": []}""", DataErrorKind.MalformedMessages, "no messages")]
    [InlineData("""{"messages": "hi"}""", DataErrorKind.MalformedMessages, "expected a list of messages")]
    [InlineData("""{"messages": null}""", DataErrorKind.MissingField, "expected a list of messages")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]}""", DataErrorKind.EmptyCompletion, "no text")]
    public void MalformedMessagesColumn(string bad, DataErrorKind kind, string reason)
    {
        const string good = """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}""";
        var e = ParseError(good + "\n\n" + bad + "\n", "sft.jsonl");
        AssertError(e, kind, 3, "messages");
        Assert.Contains(reason, e.Reason);
    }

    [Fact]
    public void MessagesWithPromptColumnsIsRefused()
    {
        var e = ParseError("""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "prompt": "x"}""" + "\n");
        AssertError(e, DataErrorKind.InconsistentColumns, 1, "prompt");
    }

    [Fact]
    public void ImplicitPromptErrors()
    {
        var none = ParseError("""{"chosen": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "x"}], "rejected": [{"role": "user", "content": "b"}, {"role": "assistant", "content": "y"}]}""" + "\n");
        AssertError(none, DataErrorKind.MissingField, 1, "prompt");
        Assert.Contains("share no leading messages", none.Reason);
        var plainRejected = ParseError("""{"chosen": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "x"}], "rejected": "y"}""" + "\n");
        AssertError(plainRejected, DataErrorKind.ConversationalFormat, 1, "rejected");
        // A plain pair without a prompt is still a missing prompt.
        AssertError(ParseError("""{"chosen": "x", "rejected": "y"}""" + "\n"), DataErrorKind.MissingField, 1, "prompt");
    }

    [Fact]
    public void SkippingBadConversationalRowsKeepsTheirLines()
    {
        var d = Parse("""
            {"prompt": [{"role": "user", "content": "a"}], "completion": "x", "reward": 1}
            {"prompt": [{"content": "a"}], "completion": "x", "reward": 1}
            {"prompt": [{"role": "user", "content": "b"}], "completion": [], "reward": 2}
            {"prompt": "plain", "completion": "x", "reward": 3}
            {"prompt": [{"role": "user", "content": "c"}], "completion": [{"role": "assistant", "content": "z"}], "reward": 4}
            """, "skip.jsonl", skip: true);
        Assert.Equal([1, 5], d.Examples.Select(e => e.Line));
        Assert.Equal(
            new (int, string?, DataErrorKind)[]
            {
                (2, "prompt", DataErrorKind.MalformedMessages),
                (3, "completion", DataErrorKind.WrongType),
                (4, "prompt", DataErrorKind.ConversationalFormat),
            },
            d.SkippedRows.Select(s => (s.Line, s.Field, s.Kind)));
    }

    [Fact]
    public void MessagesAreKeptAsGiven()
    {
        var x = Parse("""{"prompt": [{"role": "user", "content": "ünï 🦜", "name": "bob"}], "completion": [{"role": "assistant", "content": null, "tool_calls": [{"type": "function"}]}], "label": true}""" + "\n").Examples[0];
        var m = x.Prompt.Messages!.Value[0];
        Assert.Equal("ünï 🦜", m.GetProperty("content").GetString());
        Assert.Equal("bob", m.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Array, x.Completion.Messages!.Value[0].GetProperty("tool_calls").ValueKind);
        Assert.Equal("""[{"role":"user","content":"ünï 🦜","name":"bob"}]""", x.Prompt.ToString());
    }
}
