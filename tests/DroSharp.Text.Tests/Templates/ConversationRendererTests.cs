using System.Text.Json;
using DroSharp.Text.Templates;

namespace DroSharp.Text.Tests.Templates;

/// <summary>TRL's conversational split (trl/data_utils.py apply_chat_template) and its tokenisation with Qwen3's tokenizer.</summary>
public class ConversationRendererTests
{
    /// <summary>A golden family's template with the special tokens its golden cases were rendered with.</summary>
    private static ChatTemplate Family(string family)
    {
        var found = ChatTemplate.FromModelDirectory(Fixtures.PathOf(Path.Combine("chat-templates", family)))!;
        var extra = Fixtures.Lines(Path.Combine("chat-templates", family, "cases.jsonl"))[0].GetProperty("extra");
        var specials = extra.EnumerateObject().Where(p => p.Name is not ("tools" or "documents"))
            .ToDictionary(p => p.Name, p => (object?)p.Value);
        return new ChatTemplate(found.Source, specials, found.SourceName) { Clock = () => GoldenChatTemplateTests.FrozenNow };
    }

    private static JsonElement Row(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void Prompt_completion_split_is_the_generation_prompt_then_the_rest()
    {
        var r = new ConversationRenderer(Family("qwen2.5-instruct"));
        var text = r.Render(Row("""
            {"prompt": [{"role": "user", "content": "What color is the sky?"}],
             "completion": [{"role": "assistant", "content": "It is blue."}]}
            """));
        Assert.Equal("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" +
                     "<|im_start|>user\nWhat color is the sky?<|im_end|>\n<|im_start|>assistant\n", text.Prompt);
        Assert.Equal("It is blue.<|im_end|>\n", text.Completion);
        Assert.Equal(0, text.PromptCharsDropped);
        Assert.Null(text.Chosen);
        Assert.Null(text.Text);
    }

    [Fact]
    public void Phi3_example_from_trl_docstring()
    {
        // trl/data_utils.py maybe_apply_chat_template docstring (Phi-3 template): the same split.
        var r = new ConversationRenderer(Family("phi-3.5-mini-instruct"));
        var text = r.Render(Row("""
            {"prompt": [{"role": "user", "content": "What color is the sky?"}],
             "completion": [{"role": "assistant", "content": "It is blue."}]}
            """));
        Assert.Equal("<|user|>\nWhat color is the sky?<|end|>\n<|assistant|>\n", text.Prompt);
        Assert.Equal("It is blue.<|end|>\n<|endoftext|>", text.Completion);
    }

    [Fact]
    public void Messages_rows_render_whole_without_generation_prompt_and_preference_rows_share_the_prompt()
    {
        var r = new ConversationRenderer(Family("zephyr-tinyllama"));
        var m = r.Render(Row("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}"""));
        Assert.Equal("<|user|>\nHi</s>\n<|assistant|>\nHello</s>\n", m.Text);

        var p = r.Render(Row("""
            {"prompt": [{"role": "user", "content": "Hi"}],
             "chosen": [{"role": "assistant", "content": "Hello"}],
             "rejected": [{"role": "assistant", "content": "Go away"}]}
            """));
        Assert.Equal("<|user|>\nHi</s>\n<|assistant|>\n", p.Prompt);
        Assert.Equal("Hello</s>\n", p.Chosen);
        Assert.Equal("Go away</s>\n", p.Rejected);

        var implicitPrompt = r.Render(Row("""
            {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
             "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Go away"}]}
            """));
        Assert.Null(implicitPrompt.Prompt);
        Assert.Equal("<|user|>\nHi</s>\n<|assistant|>\nHello</s>\n", implicitPrompt.Chosen);
    }

    [Fact]
    public void A_prompt_ending_with_an_assistant_message_is_continued()
    {
        var r = new ConversationRenderer(Family("qwen2.5-instruct"));
        var text = r.Render(Row("""
            {"prompt": [{"role": "user", "content": "Count"}, {"role": "assistant", "content": "1, 2,"}],
             "completion": [{"role": "assistant", "content": " 3"}]}
            """));
        Assert.EndsWith("<|im_start|>assistant\n1, 2,", text.Prompt);
    }

    [Fact]
    public void Common_prefix_rule_when_the_whole_conversation_renders_the_prompt_differently()
    {
        // Like later DeepSeek-R1 templates: the generation prompt adds "<think>\n", the history does not.
        var template = new ChatTemplate(
            "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant><think>\n{% endif %}");
        var row = Row("""{"prompt": [{"role": "user", "content": "Q"}], "completion": [{"role": "assistant", "content": "A"}]}""");
        var text = new ConversationRenderer(template).Render(row);
        Assert.Equal("<user>Q<assistant>", text.Prompt);
        Assert.Equal("A", text.Completion);
        Assert.Equal("<think>\n".Length, text.PromptCharsDropped);

        var strict = new ConversationRenderer(template, requirePromptPrefix: true);
        var e = Assert.Throws<FormatException>(() => strict.Render(row, "rows.jsonl line 7"));
        Assert.StartsWith("rows.jsonl line 7: the rendered prompt is not a prefix of the rendered prompt+completion", e.Message);
    }

    [Fact]
    public void Row_chat_template_kwargs_reach_the_template()
    {
        var r = new ConversationRenderer(Family("qwen3"));
        var text = r.Render(Row("""
            {"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Hello"}],
             "chat_template_kwargs": {"enable_thinking": false}}
            """));
        // enable_thinking=false adds an empty think block to the generation prompt; Qwen3 renders the final
        // assistant turn with the same block, so the prompt stays a prefix of the whole conversation.
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", text.Prompt);
        Assert.Equal("Hello<|im_end|>\n", text.Completion);
        Assert.Equal(0, text.PromptCharsDropped);
    }

    [Fact]
    public void Bad_rows_are_named_in_the_error()
    {
        var r = new ConversationRenderer(Family("qwen2.5-instruct"));
        var e1 = Assert.Throws<FormatException>(() => r.Render(Row("""{"prompt": [{"role": "user", "content": "x"}], "chosen": []}"""), "line 3"));
        Assert.StartsWith("line 3: invalid keys", e1.Message);
        var e2 = Assert.Throws<FormatException>(() => r.Render(Row("""{"prompt": [{"role": "system", "content": "x"}], "completion": []}"""), "line 4"));
        Assert.Contains("line 4: invalid role in the last prompt message: \"system\"", e2.Message);
        var e3 = Assert.Throws<FormatException>(() => r.Render(Row("""{"messages": [{"content": "x"}]}"""), "line 5"));
        Assert.StartsWith("line 5: \"messages\" message 0:", e3.Message);
    }

    [Fact]
    public void Is_conversational_follows_trl()
    {
        Assert.True(ConversationRenderer.IsConversational(Row("""{"prompt": [{"role": "user", "content": "x"}]}""")));
        Assert.False(ConversationRenderer.IsConversational(Row("""{"prompt": "The sky is", "completion": " blue"}""")));
        Assert.False(ConversationRenderer.IsConversational(Row("""{"text": [{"role": "user"}]}""")));
    }

    /// <summary>Conversational rows built from the Qwen3 golden conversations (plus hard boundaries).</summary>
    public static TheoryData<string> Qwen3Rows()
    {
        var data = new TheoryData<string>();
        foreach (var c in Fixtures.Lines(Path.Combine("chat-templates", "qwen3", "cases.jsonl")))
        {
            if (c.TryGetProperty("error", out _)) continue;
            var messages = c.GetProperty("messages").EnumerateArray().ToList();
            int last = messages.FindLastIndex(m => m.GetProperty("role").GetString() == "assistant");
            if (last <= 0) continue;
            var prompt = messages.Take(last).ToList();
            if (prompt[^1].GetProperty("role").GetString() is not ("user" or "tool")) continue;
            var row = new Dictionary<string, object?>
            {
                ["prompt"] = prompt,
                ["completion"] = new[] { messages[last] },
            };
            if (c.GetProperty("extra").TryGetProperty("enable_thinking", out var et))
                row["chat_template_kwargs"] = new Dictionary<string, object?> { ["enable_thinking"] = et };
            data.Add(JsonSerializer.Serialize(row));
        }
        foreach (var content in new[] { "  leading and trailing spaces  ", "\n\nnewlines first", "emoji 🦜 and ünïcode", "<|im_end|> inside", "ends with\n" })
            data.Add(JsonSerializer.Serialize(new
            {
                prompt = new[] { new { role = "user", content = "Say: " + content } },
                completion = new[] { new { role = "assistant", content } },
            }));
        return data;
    }

    [Theory]
    [MemberData(nameof(Qwen3Rows))]
    public void Qwen3_prompt_tokens_then_completion_tokens_equal_the_whole_conversation_tokens(string rowJson)
    {
        var tokenizer = Fixtures.Load("qwen3-bpe");
        var text = new ConversationRenderer(Family("qwen3")).Render(Row(rowJson));
        Assert.False(string.IsNullOrEmpty(text.Completion));
        // TRL tokenises rendered chat text with add_special_tokens=False (the template already wrote them).
        int[] prompt = tokenizer.EncodeIds(text.Prompt!, addSpecialTokens: false);
        int[] completion = tokenizer.EncodeIds(text.Completion!, addSpecialTokens: false);
        int[] whole = tokenizer.EncodeIds(text.Prompt + text.Completion, addSpecialTokens: false);
        Assert.Equal(whole, prompt.Concat(completion).ToArray());
        // Special tokens written by the template become their added-token ids.
        Assert.Contains(tokenizer.TokenToId("<|im_start|>")!.Value, prompt);
        Assert.Contains(tokenizer.TokenToId("<|im_end|>")!.Value, completion);
    }
}
