using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>Every objective and value mode trains end to end through <c>dro train</c> for a few steps.</summary>
public sealed class AlgorithmSmokeTests : IDisposable
{
    // A t5-tiny model and a 16-prompt feedback log made through the CLI.
    private readonly CliWorkspace _w = new(prompts: 16);
    private readonly string _dir, _data, _model;

    public AlgorithmSmokeTests()
    {
        (_dir, _data, _model) = (_w.Root, _w.Data, _w.Model);
    }

    public void Dispose() => _w.Dispose();

    [Theory]
    [InlineData("dro-v")]
    [InlineData("dro-v", "--value", "single")]
    [InlineData("dro-v", "--value", "shared")]
    [InlineData("dro-v", "--length-normalize", "true", "--optimizer", "adafactor")]
    [InlineData("dro-p")]
    [InlineData("kto")]
    [InlineData("kto", "--kto-label", "batch-mean", "--beta", "5")]
    [InlineData("sft")]
    [InlineData("sft-pos")]
    [InlineData("rpo")]
    public void TrainsOnFeedback(string algo, params string[] extra)
    {
        string run = Path.Combine(_dir, "run-" + Guid.NewGuid().ToString("N"));
        CliRunner.Ok(["train", "--algo", algo, "--model", _model, "--data", _data, "--out", run, "--batch-size", "4",
            "--max-steps", "6", "--warmup-steps", "2", "--log-every", "3", "--eval-fraction", "0.25", "--eval-every", "3", .. extra]);
        var lines = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.TryGetProperty("loss", out var v) && double.IsFinite(v.GetDouble()));
        Assert.Contains(lines, l => l.TryGetProperty("eval_loss", out _));
        Assert.True(File.Exists(Path.Combine(run, "final", "model.safetensors")));
        var options = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))).RootElement;
        Assert.Equal(algo, options.GetProperty("algo").GetString());
    }

    [Fact]
    public void DpoTrainsOnPairs()
    {
        string pairs = Path.Combine(_dir, "pairs.jsonl");
        using (var w = new StreamWriter(pairs))
            for (int i = 0; i < 16; i++)
                w.WriteLine(JsonSerializer.Serialize(new { prompt = FeedbackFixture.Prompt(i), chosen = $"it is {FeedbackFixture.RightColor(i)}", rejected = "it is black" }));
        string run = Path.Combine(_dir, "dpo");
        CliRunner.Ok("train", "--algo", "dpo", "--model", _model, "--data", pairs, "--out", run, "--batch-size", "4", "--max-steps", "4", "--log-every", "2");
        var last = JsonDocument.Parse(File.ReadLines(Path.Combine(run, "metrics.jsonl")).Last()).RootElement;
        Assert.True(last.TryGetProperty("rewards/accuracies", out _));
    }

    [Fact]
    public void ConfigFileSuppliesOptionsAndTheCommandLineWins()
    {
        string config = Path.Combine(_dir, "train.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, object> { ["algo"] = "kto", ["batch_size"] = 4, ["max_steps"] = 3, ["beta"] = 0.3 }));
        string run = Path.Combine(_dir, "cfg");
        CliRunner.Ok("train", "--config", config, "--beta", "0.7", "--model", _model, "--data", _data, "--out", run);
        var o = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))).RootElement;
        Assert.Equal("kto", o.GetProperty("algo").GetString());
        Assert.Equal(4, o.GetProperty("batch_size").GetInt32());
        Assert.Equal(0.7, o.GetProperty("beta").GetDouble());
    }

    [Fact]
    public void DivergenceStopsWithAClearMessageAndKeepsTheLastCheckpoint()
    {
        string run = Path.Combine(_dir, "nan");
        var (code, _, err) = CliRunner.Run("train", "--model", _model, "--data", _data, "--out", run, "--batch-size", "4", "--max-steps", "40",
            "--warmup-steps", "0", "--lr", "1e30", "--max-grad-norm", "0", "--save-every", "1", "--save-total-limit", "0");
        Assert.Equal(1, code);
        Assert.Contains("became", err);
        Assert.Contains("Last good checkpoint", err);
        Assert.False(Directory.Exists(Path.Combine(run, "final")));
    }

    [Fact]
    public void RunDirectoryIsNotOverwritten()
    {
        string run = Path.Combine(_dir, "twice");
        CliRunner.Ok("train", "--model", _model, "--data", _data, "--out", run, "--batch-size", "4", "--max-steps", "2");
        var (code, _, err) = CliRunner.Run("train", "--model", _model, "--data", _data, "--out", run, "--batch-size", "4", "--max-steps", "2");
        Assert.Equal(1, code);
        Assert.Contains("--resume", err);
    }
}
