using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary><c>dro report</c>, the report <c>dro train</c> writes, the profiles and the warmup ratio through the command line.</summary>
public sealed class ReportAndDefaultsTests : IDisposable
{
    // A t5-tiny model and a 16-prompt feedback log made through the CLI.
    private readonly CliWorkspace _w = new(prompts: 16);
    private readonly string _dir, _data, _model;

    public ReportAndDefaultsTests()
    {
        (_dir, _data, _model) = (_w.Root, _w.Data, _w.Model);
    }

    public void Dispose() => _w.Dispose();

    private static JsonElement RunJson(string run) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))).RootElement;

    [Fact]
    public void TrainWritesTheReportAndDroReportRewritesIt()
    {
        string run = Path.Combine(_dir, "run");
        string output = CliRunner.Ok("train", "--model", _model, "--data", _data, "--out", run, "--batch-size", "4", "--max-steps", "8",
            "--eval-fraction", "0.25", "--eval-samples", "4", "--lr", "1e-3");
        string report = Path.Combine(run, "report.html");
        Assert.Contains($"report: {report}", output);
        string html = File.ReadAllText(report);
        Assert.Contains("<figure id=\"plot-loss\">", html);
        Assert.Contains("<figure id=\"plot-kl\">", html);
        Assert.Contains("what colour is thing", html); // prompts decoded with the model's tokenizer

        File.Delete(report);
        string other = Path.Combine(_dir, "elsewhere.html");
        Assert.Equal(other, CliRunner.Ok("report", run, "--out", other).Trim());
        Assert.Equal(html.Replace(report, ""), File.ReadAllText(other).Replace(other, "").Replace(report, ""));
        Assert.Equal(report, CliRunner.Ok("report", run).Trim());
        Assert.True(File.Exists(report));
    }

    [Fact]
    public void ReportOfSomethingThatIsNotARunIsAOneLineError()
    {
        var (code, _, err) = CliRunner.Run("report", Path.Combine(_dir, "missing"));
        Assert.Equal(1, code);
        Assert.Contains("is not a directory", err);
        (code, _, err) = CliRunner.Run("report", _model);
        Assert.Equal(1, code);
        Assert.Contains("no run.json", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void ThePaperProfileFillsWhatTheCommandLineDoesNotGive()
    {
        string run = Path.Combine(_dir, "paper");
        CliRunner.Ok("train", "--profile", "paper", "--model", _model, "--data", _data, "--out", run, "--batch-size", "4", "--max-steps", "2");
        var o = RunJson(run);
        Assert.Equal("paper", o.GetProperty("profile").GetString());
        Assert.Equal(1e-4, o.GetProperty("lr").GetDouble());
        Assert.Equal("adafactor", o.GetProperty("optimizer").GetString());
        Assert.Equal(150, o.GetProperty("warmup_steps").GetInt32());
        Assert.Equal(1.0, o.GetProperty("tau").GetDouble());
        Assert.Equal(4, o.GetProperty("batch_size").GetInt32()); // the command line wins
        // 150 warmup steps in a 2-step run: the warmup warning says so.
        Assert.Contains("warmup_too_long", File.ReadAllText(Path.Combine(run, "warnings.jsonl")));

        var (code, _, err) = CliRunner.Run("train", "--profile", "fast", "--model", _model, "--data", _data, "--out", Path.Combine(_dir, "bad"));
        Assert.Equal(1, code);
        Assert.Contains("--profile must be one of default, paper", err);
    }

    [Fact]
    public void WarmupIsATenthOfTheRunUnlessStepsAreGiven()
    {
        string run = Path.Combine(_dir, "ratio");
        CliRunner.Ok("train", "--model", _model, "--data", _data, "--out", run, "--batch-size", "4", "--max-steps", "20", "--log-every", "1", "--lr", "1e-3", "--schedule", "constant");
        Assert.Equal(JsonValueKind.Null, RunJson(run).GetProperty("warmup_steps").ValueKind);
        var lr = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("learning_rate", out _)).Select(e => e.GetProperty("learning_rate").GetDouble()).ToList();
        // Steps 1, 2 warm up (rates 0 and 1e-3/2), the rest run at 1e-3: warmup = ⌈0.1 × 20⌉ = 2.
        Assert.Equal([0.0, 5e-4, 1e-3], lr.Take(3));
        Assert.All(lr.Skip(2), v => Assert.Equal(1e-3, v));

        string given = Path.Combine(_dir, "steps");
        CliRunner.Ok("train", "--model", _model, "--data", _data, "--out", given, "--batch-size", "4", "--max-steps", "20", "--log-every", "1",
            "--lr", "1e-3", "--schedule", "constant", "--warmup-steps", "4", "--warmup-ratio", "0.5");
        var lr2 = File.ReadLines(Path.Combine(given, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("learning_rate", out _)).Select(e => e.GetProperty("learning_rate").GetDouble()).ToList();
        Assert.Equal([0.0, 2.5e-4, 5e-4, 7.5e-4, 1e-3], lr2.Take(5));
    }
}
