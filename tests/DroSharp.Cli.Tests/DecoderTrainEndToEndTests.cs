using System.Text.Json;
using DroSharp.Alignment.Training;

namespace DroSharp.Cli.Tests;

/// <summary>
/// <c>dro train</c> end to end with a tiny decoder-only model (llama-tiny, random weights) on a
/// feedback log of token ids: prompt [BOS, 10 + thing], completion [colour, EOS]; the right colour of
/// thing i is 100 + i % 3 and gets the thumbs up, the others down.
/// </summary>
public sealed class DecoderTrainEndToEndTests : IDisposable
{
    private readonly TempDirectory _temp = new("drosharp-cli-");
    private readonly string _dir;
    private readonly string _model, _data;

    public DecoderTrainEndToEndTests()
    {
        _dir = _temp.Path;
        _model = Path.Combine(_dir, "m0");
        CliRunner.Ok("init", "--preset", "llama-tiny", "--out", _model, "--seed", "2");
        _data = Path.Combine(_dir, "feedback.jsonl");
        using var w = new StreamWriter(_data);
        for (int i = 0; i < 24; i++)
            for (int c = 0; c < 4; c++)
                w.WriteLine(JsonSerializer.Serialize(new { prompt_ids = new[] { 1, 10 + i }, completion_ids = new[] { 100 + c, 2 }, label = c == i % 3 }));
    }

    public void Dispose() => _temp.Dispose();

    private double Margin(string model)
    {
        string probe = Path.Combine(_dir, "probe.jsonl"), scores = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".jsonl");
        using (var w = new StreamWriter(probe))
            for (int i = 0; i < 24; i++)
                for (int c = 0; c < 4; c++) w.WriteLine(JsonSerializer.Serialize(new { prompt_ids = new[] { 1, 10 + i }, completion_ids = new[] { 100 + c, 2 } }));
        CliRunner.Ok("score", "--model", model, "--data", probe, "--out", scores);
        var lp = File.ReadLines(scores).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("logprob").GetDouble()).ToArray();
        double margin = 0;
        for (int i = 0; i < 24; i++)
        {
            var row = lp.Skip(i * 4).Take(4).ToArray();
            margin += row[i % 3] - row.Where((_, j) => j != i % 3).Average();
        }
        return margin / 24;
    }

    [Theory]
    [InlineData("dro-v", "3e-3")]
    [InlineData("kto", "3e-3")]
    [InlineData("sft-pos", "3e-3")]
    public void TrainingRaisesTheThumbsUpCompletion(string algo, string lr)
    {
        string run = Path.Combine(_dir, algo);
        CliRunner.Ok("train", "--algo", algo, "--model", _model, "--data", _data, "--out", run, "--batch-size", "8",
            "--max-steps", "60", "--warmup-steps", "5", "--lr", lr, "--log-every", "10", "--save-every", "0", "--eval-fraction", "0.2",
            "--select-by", "last"); // what training did to the last step's weights, not which step the held-out split prefers
        Assert.True(File.Exists(Path.Combine(run, "final", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "final", "config.json")));
        Assert.True(File.Exists(Path.Combine(run, "final", "generation_config.json")));
        double before = Margin(_model), after = Margin(Path.Combine(run, "final"));
        Assert.True(after > before + 0.5, $"{algo}: log-prob margin of the thumbs-up completion before {before:F3}, after {after:F3}");
    }

    [Fact]
    public void DpoTrainsOnPairs()
    {
        string pairs = Path.Combine(_dir, "pairs.jsonl");
        using (var w = new StreamWriter(pairs))
            for (int i = 0; i < 24; i++)
                w.WriteLine(JsonSerializer.Serialize(new { prompt_ids = new[] { 1, 10 + i }, chosen_ids = new[] { 100 + i % 3, 2 }, rejected_ids = new[] { 103, 2 } }));
        string run = Path.Combine(_dir, "dpo");
        CliRunner.Ok("train", "--algo", "dpo", "--model", _model, "--data", pairs, "--out", run, "--batch-size", "4", "--max-steps", "40",
            "--lr", "3e-3", "--warmup-steps", "2", "--log-every", "10", "--save-every", "0");
        var last = JsonDocument.Parse(File.ReadLines(Path.Combine(run, "metrics.jsonl")).Last()).RootElement;
        Assert.True(last.GetProperty("rewards/accuracies").GetDouble() > 0.9);
    }

    [Theory]
    [InlineData("dro-v")]
    [InlineData("kto")]
    public void InterruptedAndResumedRunIsBitIdentical(string algo)
    {
        TrainingOptions Options(string run) => new()
        {
            Algo = algo, Model = _model, Data = _data, Out = run, BatchSize = 4, GradientAccumulation = 2, MaxSteps = 16, WarmupSteps = 2,
            LearningRate = 1e-3, LogEvery = 3, SaveEvery = 0, EvalFraction = 0.2, EvalEvery = 5, Schedule = "cosine",
        };
        string a = Path.Combine(_dir, "a-" + algo), b = Path.Combine(_dir, "b-" + algo);
        using (var t = new AlignmentTrainer(Options(a), encoder: null, TextWriter.Null)) t.Train(resume: false, CancellationToken.None);
        using (var cts = new CancellationTokenSource())
        using (var t = new AlignmentTrainer(Options(b), encoder: null, TextWriter.Null))
        {
            t.StepCompleted += s => { if (s == 7) cts.Cancel(); };
            Assert.True(t.Train(resume: false, cts.Token).Interrupted);
        }
        var (code, _, err) = CliRunner.Run("train", "--resume", b);
        Assert.True(code == 0, err);
        foreach (var file in new[] { "model.safetensors", Path.Combine("value", "model.safetensors") })
        {
            string fa = Path.Combine(a, "final", file), fb = Path.Combine(b, "final", file);
            Assert.Equal(File.Exists(fa), File.Exists(fb));
            if (File.Exists(fa)) Assert.True(File.ReadAllBytes(fa).AsSpan().SequenceEqual(File.ReadAllBytes(fb)), $"{file} differs after resume");
        }
        static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"tokens_per_s\":[^,}]*,?", "");
        Assert.Equal(File.ReadLines(Path.Combine(a, "metrics.jsonl")).Select(Strip), File.ReadLines(Path.Combine(b, "metrics.jsonl")).Select(Strip));
    }

    [Fact]
    public void GenerateWritesCompletionsEndingAtTheEos()
    {
        string prompts = Path.Combine(_dir, "prompts.jsonl"), output = Path.Combine(_dir, "gen.jsonl");
        File.WriteAllLines(prompts, Enumerable.Range(0, 5).Select(i => JsonSerializer.Serialize(new { prompt_ids = new[] { 1, 10 + i } })));
        CliRunner.Ok("generate", "--model", _model, "--prompts", prompts, "--out", output, "--temperature", "0", "--max-new-tokens", "6");
        var rows = File.ReadLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, rows.Count);
        Assert.All(rows, r => Assert.InRange(r.GetProperty("completion_ids").GetArrayLength(), 1, 6));
    }
}
