using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>
/// <c>dro train --lora 8</c> on a conversational log with a tiny Qwen3 model and a chat template, through
/// the CLI only: the thumbs-up reply rises, the adapter directory serves <c>dro chat</c>, <c>dro generate</c>
/// and <c>dro score</c>, and a run resumed from an earlier checkpoint ends bit-identically.
/// </summary>
public sealed class LoraConversationTests : IDisposable
{
    private readonly ConversationFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void LoraOnAConversationalLogRaisesTheThumbsUpReplyAndTheAdapterChats()
    {
        string run = _f.PathOf("run");
        CliRunner.Ok("train", "--algo", "dro-v", "--model", _f.Model, "--data", _f.Log, "--out", run, "--lora", "8", "--batch-size", "8",
            "--max-steps", "100", "--warmup-steps", "10", "--lr", "1e-2", "--log-every", "20", "--save-every", "0");
        string final = Path.Combine(run, "final");
        Assert.True(File.Exists(Path.Combine(final, "adapter_config.json")));
        double before = _f.Margin(_f.Model), after = _f.Margin(final);
        Assert.True(after > before + 0.5, $"log-prob margin of the thumbs-up reply: before {before:F3}, after {after:F3}");
        // final/ carries the chat template and end-of-turn token beside the adapter.
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(final, "tokenizer_config.json"))).RootElement;
        Assert.Equal(ConversationFixture.ChatMl, config.GetProperty("chat_template").GetString());

        // dro chat on the adapter directory answers as dro generate does on the same conversation.
        string q = ConversationFixture.Question(4);
        var (code, output, err) = ConversationFixture.RunWithInput($"{q}\n/exit\n", "chat", "--model", final, "--temperature", "0", "--max-new-tokens", "8");
        Assert.True(code == 0, err);
        string reply = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        string prompts = _f.PathOf("prompts.jsonl"), generated = _f.PathOf("generated.jsonl");
        File.WriteAllLines(prompts, [JsonSerializer.Serialize(new { prompt = new[] { ConversationFixture.User(q) } })]);
        CliRunner.Ok("generate", "--model", final, "--prompts", prompts, "--out", generated, "--temperature", "0", "--max-new-tokens", "8");
        Assert.Equal(reply, ConversationFixture.ReadJsonl(generated)[0].GetProperty("completion")[0].GetProperty("content").GetString());
    }

    /// <summary>
    /// Two identical runs; the second loses its last checkpoint and final/ (as if stopped after step 8) and
    /// continues with dro train --resume: the adapters, value head and metrics end bit-identical.
    /// </summary>
    [Fact]
    public void LoraRunResumedFromACheckpointIsBitIdentical()
    {
        string[] Args(string run) => ["train", "--algo", "dro-v", "--model", _f.Model, "--data", _f.Log, "--out", run, "--lora", "8",
            "--lora-dropout", "0.1", "--base-dtype", "bf16", "--gradient-checkpointing", "--batch-size", "4", "--grad-accum", "2",
            "--max-steps", "12", "--warmup-steps", "2", "--lr", "5e-3", "--log-every", "3", "--save-every", "4", "--eval-fraction", "0.2", "--eval-every", "5"];
        string a = _f.PathOf("a"), b = _f.PathOf("b");
        CliRunner.Ok(Args(a));
        CliRunner.Ok(Args(b));
        Directory.Delete(Path.Combine(b, "checkpoints", "step-12"), recursive: true);
        Directory.Delete(Path.Combine(b, "final"), recursive: true);
        string log = CliRunner.Ok("train", "--resume", b);
        Assert.Contains("done: 12 steps", log);
        foreach (var file in new[] { "adapter_model.safetensors", Path.Combine("value", "adapter_model.safetensors"), "adapter_config.json", "tokenizer_config.json" })
            Assert.True(File.ReadAllBytes(Path.Combine(a, "final", file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, "final", file))), $"{file} differs after resume");
        static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"(tokens_per_s|gflops|[a-z_]*flop[a-z_]*)\":[^,}]*,?", "");
        Assert.Equal(File.ReadLines(Path.Combine(a, "metrics.jsonl")).Select(Strip), File.ReadLines(Path.Combine(b, "metrics.jsonl")).Select(Strip));
    }
}
