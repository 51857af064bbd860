using System.Text.Json;
using DroSharp.Text;
using DroSharp.Text.Templates;

namespace DroSharp.Cli.Tests.Commands;

/// <summary>
/// <c>dro chat</c> driven through standard input after SFT on a <c>messages</c> log (greedy, so deterministic), checked
/// against the answers it was trained on, its own log and <c>dro generate</c> on the same conversations.
/// </summary>
public sealed class ChatCommandTests : IDisposable
{
    private readonly ConversationFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>SFT on whole conversations: each question's right colour.</summary>
    private string TrainSft()
    {
        string run = _f.PathOf("sft");
        CliRunner.Ok("train", "--algo", "sft", "--model", _f.Model, "--data", _f.WriteMessages("messages.jsonl", 24), "--out", run,
            "--batch-size", "8", "--max-steps", "150", "--warmup-steps", "10", "--lr", "3e-3", "--log-every", "50", "--save-every", "0");
        return Path.Combine(run, "final");
    }

    [Fact]
    public void ChatKeepsTheConversationStreamsTheRepliesAndMatchesGenerate()
    {
        string model = TrainSft();
        string log = _f.PathOf("chat.jsonl");
        string q3 = ConversationFixture.Question(3), q4 = ConversationFixture.Question(4);
        var (code, output, err) = ConversationFixture.RunWithInput($"{q3}\n\n{q4}\n/what\n/reset\n{q3}\n/exit\n{q4}\n",
            "chat", "--model", model, "--temperature", "0", "--max-new-tokens", "12", "--log", log);
        Assert.True(code == 0, err);
        string[] replies = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // What SFT taught, each reply ended by the model's <|im_end|> (no cut at --max-new-tokens).
        Assert.Equal([$"it is {FeedbackFixture.RightColor(3)}", $"it is {FeedbackFixture.RightColor(4)}", $"it is {FeedbackFixture.RightColor(3)}"], replies);
        Assert.DoesNotContain("cut at --max-new-tokens", err);
        Assert.Contains("unknown command /what", err);
        Assert.Contains("starts over", err);

        // The log: one conversational row per turn; the second turn's prompt holds the first turn.
        var turns = ConversationFixture.ReadJsonl(log);
        Assert.Equal(3, turns.Count);
        var second = turns[1];
        Assert.Equal(
            [("user", q3), ("assistant", replies[0]), ("user", q4)],
            second.GetProperty("prompt").EnumerateArray().Select(m => (m.GetProperty("role").GetString(), m.GetProperty("content").GetString())));
        var template = new ChatTemplate(ConversationFixture.ChatMl);
        string expectedPrompt = template.Render([new("user", q3), new("assistant", replies[0]), new("user", q4)], addGenerationPrompt: true);
        Assert.Equal(expectedPrompt, second.GetProperty("prompt_text").GetString());
        var tokenizer = Tokenizer.FromFile(Path.Combine(model, "tokenizer.json"));
        Assert.Equal(tokenizer.EncodeIds(expectedPrompt, addSpecialTokens: false), second.GetProperty("prompt_ids").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(replies[1], second.GetProperty("completion")[0].GetProperty("content").GetString());
        Assert.Equal(tokenizer.TokenToId("<|im_end|>"), second.GetProperty("completion_ids").EnumerateArray().Last().GetInt32());
        Assert.Equal(turns[0].GetProperty("prompt_text").GetString(), turns[2].GetProperty("prompt_text").GetString()); // after /reset

        // dro generate on the same conversations (greedy) gives the same replies, in TRL's conversational output form.
        string prompts = _f.PathOf("prompts.jsonl"), generated = _f.PathOf("generated.jsonl");
        File.WriteAllLines(prompts, [
            JsonSerializer.Serialize(new { prompt = new[] { ConversationFixture.User(q3) } }),
            JsonSerializer.Serialize(new { prompt = new[] { ConversationFixture.User(q3), ConversationFixture.Assistant(replies[0]), ConversationFixture.User(q4) } })]);
        CliRunner.Ok("generate", "--model", model, "--prompts", prompts, "--out", generated, "--temperature", "0", "--max-new-tokens", "12");
        var g = ConversationFixture.ReadJsonl(generated);
        Assert.Equal(replies[..2], g.Select(r => r.GetProperty("completion")[0].GetProperty("content").GetString()));
        Assert.Equal("assistant", g[0].GetProperty("completion")[0].GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Array, g[1].GetProperty("prompt").ValueKind);
        Assert.Equal(turns[1].GetProperty("completion_ids").ToString(), g[1].GetProperty("completion_ids").ToString());
    }

    [Fact]
    public void ASystemMessageStartsTheConversation()
    {
        string log = _f.PathOf("system.jsonl");
        var (code, output, err) = ConversationFixture.RunWithInput("hello\n", "chat", "--model", _f.Model, "--system", "Be brief.",
            "--temperature", "0", "--max-new-tokens", "3", "--log", log);
        Assert.True(code == 0, err);
        var turn = Assert.Single(ConversationFixture.ReadJsonl(log));
        Assert.Equal(turn.GetProperty("completion")[0].GetProperty("content").GetString() + "\n", output); // the streamed text is the reply
        Assert.StartsWith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", turn.GetProperty("prompt_text").GetString());
        Assert.Equal(3, turn.GetProperty("completion_ids").GetArrayLength()); // an untrained model runs to --max-new-tokens
        Assert.Contains("cut at --max-new-tokens 3", err);
    }

    [Fact]
    public void AConversationThatFillsTheContextIsRefusedNotOverrun()
    {
        // The same tiny model with a 40-token context.
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_f.Model, "config.json")))!.AsObject();
        config["max_position_embeddings"] = 40;
        string configFile = _f.PathOf("short.json"), small = _f.PathOf("short");
        File.WriteAllText(configFile, config.ToJsonString());
        CliRunner.Ok("init", "--config", configFile, "--tokenizer", Path.Combine(_f.Dir, "tokenizer.json"), "--out", small,
            "--chat-template", _f.TemplateFile, "--eos-token", "<|im_end|>");
        string log = _f.PathOf("short.jsonl");
        var (code, _, err) = ConversationFixture.RunWithInput("what colour is thing 1?\nand thing 2?\n", "chat", "--model", small,
            "--temperature", "0", "--max-new-tokens", "30", "--log", log);
        Assert.True(code == 0, err);
        var turn = Assert.Single(ConversationFixture.ReadJsonl(log));
        int used = turn.GetProperty("prompt_ids").GetArrayLength() + turn.GetProperty("completion_ids").GetArrayLength();
        Assert.True(used <= 40, $"{used} tokens in a 40-token context");
        Assert.Contains("fills the model's context of 40 tokens; the message was not sent", err);
    }

    [Fact]
    public void WithoutAChatTemplateEachLineIsAPlainPrompt()
    {
        // T5: no chat template, so every line is encoded as plain text, as dro generate does.
        string data = FeedbackFixture.Write(_f.Dir), tok = _f.PathOf("t5-tokenizer.json"), t5 = _f.PathOf("t5");
        CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", data, "--out", tok);
        CliRunner.Ok("init", "--preset", "t5-tiny", "--tokenizer", tok, "--out", t5, "--seed", "2");
        string[] questions = [FeedbackFixture.Prompt(1), FeedbackFixture.Prompt(2)];
        var (code, output, err) = ConversationFixture.RunWithInput(string.Join("\n", questions) + "\n", "chat", "--model", t5,
            "--temperature", "0", "--max-new-tokens", "5");
        Assert.True(code == 0, err);
        Assert.Contains("has no chat template: each line is a separate plain prompt", err);
        string prompts = _f.PathOf("t5-prompts.jsonl"), generated = _f.PathOf("t5-generated.jsonl");
        File.WriteAllLines(prompts, questions.Select(q => JsonSerializer.Serialize(new { prompt = q })));
        CliRunner.Ok("generate", "--model", t5, "--prompts", prompts, "--out", generated, "--temperature", "0", "--max-new-tokens", "5");
        var expected = ConversationFixture.ReadJsonl(generated).Select(r => r.GetProperty("completion").GetString()!).ToArray();
        Assert.Equal(expected, output.Split('\n')[..2]);

        var (code2, _, err2) = ConversationFixture.RunWithInput("hi\n", "chat", "--model", t5, "--system", "x");
        Assert.Equal(1, code2);
        Assert.Contains("--system needs a chat template", err2);
        var (code3, _, err3) = ConversationFixture.RunWithInput("hi\n", "chat", "--model", t5, "--chat-template", _f.TemplateFile);
        Assert.Equal(1, code3);
        Assert.Contains("T5", err3);
    }

    [Fact]
    public void InitWritesAChatModelAsTransformersSavesOne()
    {
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_f.Model, "tokenizer_config.json"))).RootElement;
        Assert.Equal(ConversationFixture.ChatMl, config.GetProperty("chat_template").GetString());
        Assert.Equal("<|im_end|>", config.GetProperty("eos_token").GetString());
        Assert.Equal("<pad>", config.GetProperty("pad_token").GetString());
        Assert.Equal(JsonValueKind.Null, config.GetProperty("bos_token").ValueKind);
        Assert.Equal("PreTrainedTokenizerFast", config.GetProperty("tokenizer_class").GetString());
        var added = config.GetProperty("added_tokens_decoder");
        Assert.Equal("<|im_start|>", added.GetProperty("3").GetProperty("content").GetString());
        Assert.True(added.GetProperty("4").GetProperty("special").GetBoolean());
        var tokenizer = Tokenizer.FromFile(Path.Combine(_f.Model, "tokenizer.json"));
        Assert.Equal(4, tokenizer.TokenToId("<|im_end|>"));
        Assert.Equal(4, tokenizer.EosId); // tokenizer_config.json names it
        var modelConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(_f.Model, "config.json"))).RootElement;
        Assert.Equal(4, modelConfig.GetProperty("eos_token_id").GetInt32());
        Assert.Equal(ConversationFixture.ChatMl, ChatTemplate.FromModelDirectory(_f.Model)!.Source);
        // The special tokens are whole tokens, never split.
        Assert.Equal([3], tokenizer.EncodeIds("<|im_start|>", addSpecialTokens: false));

        var (code, _, err) = CliRunner.Run("init", "--preset", "qwen3-tiny", "--tokenizer", Path.Combine(_f.Dir, "tokenizer.json"), "--out", _f.PathOf("x"),
            "--eos-token", "<|nope|>");
        Assert.Equal(1, code);
        Assert.Contains("--eos-token: <|nope|> is not a token", err);
    }
}
