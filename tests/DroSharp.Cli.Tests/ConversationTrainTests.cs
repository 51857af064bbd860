using System.Text.Json;
using DroSharp.Alignment.Training;

namespace DroSharp.Cli.Tests;

/// <summary><c>dro train</c> on conversational logs with a tiny decoder model and a chat template, end to end.</summary>
public sealed class ConversationTrainTests : IDisposable
{
    private readonly ConversationFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void DroVRaisesTheThumbsUpReplyOfAConversationalLog()
    {
        string run = _f.PathOf("run");
        CliRunner.Ok("train", "--algo", "dro-v", "--model", _f.Model, "--data", _f.Log, "--out", run, "--batch-size", "8",
            "--max-steps", "100", "--warmup-steps", "10", "--lr", "3e-3", "--log-every", "10", "--save-every", "0");
        double before = _f.Margin(_f.Model), after = _f.Margin(Path.Combine(run, "final"));
        Assert.True(after > before + 0.5, $"log-prob margin of the thumbs-up reply: before {before:F3}, after {after:F3}");

        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data_report.json"))).RootElement.GetProperty("train");
        Assert.Equal(report.GetProperty("examples").GetInt32(), report.GetProperty("conversational_rows").GetInt32());
        Assert.Equal(0, report.GetProperty("prompts_cut_to_common_prefix").GetInt32());
        Assert.Equal(0, report.GetProperty("split_tokenization_mismatches").GetInt32());
        // final/ keeps the chat template and end-of-turn token, so dro chat and transformers render as training did.
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "final", "tokenizer_config.json"))).RootElement;
        Assert.Equal(ConversationFixture.ChatMl, config.GetProperty("chat_template").GetString());
        Assert.Equal("<|im_end|>", config.GetProperty("eos_token").GetString());
    }

    [Fact]
    public void ScoringAConversationEqualsScoringItsTemplateIds()
    {
        string probe = _f.Probe();
        string shown = _f.PathOf("probe.template.jsonl");
        CliRunner.Ok("template", "--model", _f.Model, "--data", probe, "--out", shown);
        string ids = _f.PathOf("probe.ids.jsonl");
        File.WriteAllLines(ids, ConversationFixture.ReadJsonl(shown).Select(r => JsonSerializer.Serialize(new
        {
            prompt_ids = r.GetProperty("prompt_ids"),
            completion_ids = r.GetProperty("completion_ids"),
        })));
        Assert.Equal(_f.Scores(_f.Model, ids), _f.Scores(_f.Model, probe));
    }

    [Theory]
    [InlineData("kto", "log")]
    [InlineData("sft", "messages")]
    [InlineData("dpo", "pairs")]
    [InlineData("dro-v", "pairs")]
    public void OtherObjectivesTrainOnConversations(string algo, string data)
    {
        string file = data switch
        {
            "log" => _f.Log,
            "messages" => _f.WriteMessages("messages.jsonl", 24),
            _ => _f.WritePairs("pairs.jsonl", 24),
        };
        string run = _f.PathOf("run-" + algo + "-" + data);
        CliRunner.Ok("train", "--algo", algo, "--model", _f.Model, "--data", file, "--out", run, "--batch-size", "4",
            "--max-steps", "6", "--warmup-steps", "2", "--log-every", "3", "--eval-fraction", "0.25", "--eval-every", "3");
        var lines = ConversationFixture.ReadJsonl(Path.Combine(run, "metrics.jsonl"));
        Assert.Contains(lines, l => l.TryGetProperty("loss", out var v) && double.IsFinite(v.GetDouble()));
        Assert.Contains(lines, l => l.TryGetProperty("eval_loss", out _));
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data_report.json"))).RootElement;
        Assert.True(report.GetProperty("train").GetProperty("conversational_rows").GetInt32() > 0);
        Assert.True(report.GetProperty("eval").GetProperty("conversational_rows").GetInt32() > 0);
    }

    /// <summary>A conversational run interrupted at a step and resumed ends with bit-identical weights and the same metrics.</summary>
    [Fact]
    public void InterruptedAndResumedConversationalRunIsBitIdentical()
    {
        TrainingOptions Options(string run) => new()
        {
            Algo = "dro-v", Model = _f.Model, Data = _f.Log, Out = run, BatchSize = 4, GradientAccumulation = 2, MaxSteps = 16,
            WarmupSteps = 3, LearningRate = 1e-3, LogEvery = 4, SaveEvery = 0, EvalFraction = 0.2, EvalEvery = 8, Schedule = "cosine",
            ChatTemplate = _f.TemplateFile, ChatTemplateKwargs = JsonDocument.Parse("\"{\\\"unused\\\": 1}\"").RootElement.Clone(),
        };
        var tokenizer = ModelDirectory.LoadTokenizer(_f.Model);
        var template = ChatTemplateOptions.Load(_f.Model, _f.TemplateFile);
        string a = _f.PathOf("a"), b = _f.PathOf("b");
        CliRunner.Ok("train", "--algo", "dro-v", "--model", _f.Model, "--data", _f.Log, "--out", a, "--batch-size", "4", "--grad-accum", "2",
            "--max-steps", "16", "--warmup-steps", "3", "--lr", "1e-3", "--log-every", "4", "--save-every", "0", "--eval-fraction", "0.2",
            "--eval-every", "8", "--schedule", "cosine", "--chat-template", _f.TemplateFile, "--chat-template-kwargs", "{\"unused\": 1}");
        using (var cts = new CancellationTokenSource())
        using (var t = new AlignmentTrainer(Options(b), p => ModelDirectory.Encoder(tokenizer, p.Tokens, template, Options(b).ChatTemplateVariables()), TextWriter.Null))
        {
            t.StepCompleted += s => { if (s == 7) cts.Cancel(); };
            var r = t.Train(resume: false, cts.Token);
            Assert.True(r.Interrupted);
        }
        Assert.False(Directory.Exists(Path.Combine(b, "final")));
        var (code, _, err) = CliRunner.Run("train", "--resume", b);
        Assert.True(code == 0, err);
        foreach (var file in new[] { "model.safetensors", Path.Combine("value", "model.safetensors"), "chat_template.jinja" })
            Assert.True(File.ReadAllBytes(Path.Combine(a, "final", file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, "final", file))), $"{file} differs after resume");
        static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"tokens_per_s\":[^,}]*,?", "");
        Assert.Equal(File.ReadLines(Path.Combine(a, "metrics.jsonl")).Select(Strip), File.ReadLines(Path.Combine(b, "metrics.jsonl")).Select(Strip));
        var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(b, "run.json"))).RootElement;
        Assert.Equal(_f.TemplateFile, saved.GetProperty("chat_template").GetString());
    }

    [Fact]
    public void AModelWithoutAChatTemplateNeedsOne()
    {
        string plain = _f.PathOf("m-plain");
        CliRunner.Ok("init", "--preset", "qwen3-tiny", "--tokenizer", Path.Combine(_f.Dir, "tokenizer.json"), "--out", plain, "--seed", "7");
        Assert.False(File.Exists(Path.Combine(plain, "tokenizer_config.json")));

        var (code, _, err) = CliRunner.Run("train", "--model", plain, "--data", _f.Log, "--out", _f.PathOf("r1"), "--max-steps", "1");
        Assert.Equal(1, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains($"{_f.Log}:1: the rows are conversations (chat messages), but the model has no chat template", err);
        Assert.Contains("--chat-template FILE", err);

        var (code2, _, err2) = CliRunner.Run("train", "--model", plain, "--data", _f.Log, "--out", _f.PathOf("r2"), "--max-steps", "1",
            "--chat-template", _f.TemplateFile, "--chat-template-kwargs", "{not json");
        Assert.Equal(1, code2);
        Assert.Contains("--chat-template-kwargs: not valid JSON", err2);

        var (code3, _, err3) = CliRunner.Run("train", "--model", plain, "--data", _f.Log, "--out", _f.PathOf("r3"), "--max-steps", "1",
            "--chat-template", _f.PathOf("missing.jinja"));
        Assert.Equal(1, code3);
        Assert.Contains("missing.jinja does not exist", err3);

        string run = _f.PathOf("r4");
        CliRunner.Ok("train", "--model", plain, "--data", _f.Log, "--out", run, "--max-steps", "2", "--batch-size", "4",
            "--chat-template", _f.TemplateFile, "--save-every", "0");
        Assert.Equal(ConversationFixture.ChatMl, File.ReadAllText(Path.Combine(run, "final", "chat_template.jinja")));

        // T5 takes plain text: conversational rows are refused with the reason.
        string t5 = _f.PathOf("t5"), tok = _f.PathOf("t5-tokenizer.json"), plainLog = FeedbackFixture.Write(_f.Dir);
        CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", plainLog, "--out", tok);
        CliRunner.Ok("init", "--preset", "t5-tiny", "--tokenizer", tok, "--out", t5);
        var (code5, _, err5) = CliRunner.Run("train", "--model", t5, "--data", _f.Log, "--out", _f.PathOf("r5"), "--chat-template", _f.TemplateFile);
        Assert.Equal(1, code5);
        Assert.Contains("T5 (an encoder-decoder) takes plain prompt and completion text", err5);
    }
}
