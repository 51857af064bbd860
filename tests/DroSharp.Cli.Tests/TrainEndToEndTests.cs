using System.Text.Json;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;

namespace DroSharp.Cli.Tests;

public class TrainEndToEndTests
{
    /// <summary>
    /// tokenizer train → init t5-tiny → train dro-v → score: the thumbs-up response's log-prob rises
    /// relative to the other responses, and the DRO residual falls.
    /// </summary>
    [Fact]
    public void DroVRaisesTheThumbsUpResponse()
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            string data = FeedbackFixture.Write(dir);
            string tok = Path.Combine(dir, "tokenizer.json"), m0 = Path.Combine(dir, "m0"), run = Path.Combine(dir, "run");
            CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", data, "--out", tok);
            CliRunner.Ok("init", "--preset", "t5-tiny", "--tokenizer", tok, "--out", m0, "--seed", "3");
            CliRunner.Ok("train", "--algo", "dro-v", "--model", m0, "--data", data, "--out", run, "--batch-size", "8",
                "--max-steps", "120", "--warmup-steps", "10", "--lr", "2e-3", "--log-every", "10", "--save-every", "0");
            Assert.True(File.Exists(Path.Combine(run, "final", "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(run, "final", "value", "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(run, "final", "tokenizer.json")));

            // Score every (prompt, colour) before and after.
            string probe = Path.Combine(dir, "probe.jsonl");
            using (var w = new StreamWriter(probe))
                for (int i = 0; i < 12; i++)
                    foreach (var c in FeedbackFixture.Colors)
                        w.WriteLine(JsonSerializer.Serialize(new { prompt = FeedbackFixture.Prompt(i), completion = $"it is {c}" }));
            double Margin(string model)
            {
                string outFile = Path.Combine(dir, Path.GetFileName(model) + ".scores.jsonl");
                CliRunner.Ok("score", "--model", model, "--data", probe, "--out", outFile);
                var lp = File.ReadLines(outFile).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("logprob").GetDouble()).ToArray();
                Assert.Equal(12 * FeedbackFixture.Colors.Length, lp.Length);
                double margin = 0;
                for (int i = 0; i < 12; i++)
                {
                    int right = Array.IndexOf(FeedbackFixture.Colors, FeedbackFixture.RightColor(i));
                    var row = lp.Skip(i * FeedbackFixture.Colors.Length).Take(FeedbackFixture.Colors.Length).ToArray();
                    margin += row[right] - row.Where((_, j) => j != right).Average();
                }
                return margin / 12;
            }
            double before = Margin(m0), after = Margin(Path.Combine(run, "final"));
            Assert.True(after > before + 1.0, $"log-prob margin of the thumbs-up response: before {before:F3}, after {after:F3}");

            var metrics = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            double Residual(JsonElement e) => e.GetProperty("residual/mean").GetDouble();
            double firstLoss = metrics[0].GetProperty("loss").GetDouble(), lastLoss = metrics[^1].GetProperty("loss").GetDouble();
            Assert.True(lastLoss < firstLoss, $"DRO loss (½·mean residual²) should fall: first {firstLoss:F4}, last {lastLoss:F4}");
            Assert.True(Math.Abs(Residual(metrics[^1])) < 1.0);
            foreach (var name in new[] { "loss", "learning_rate", "grad_norm", "value/mean", "residual/mean", "logratio/mean" })
                Assert.True(metrics[^1].TryGetProperty(name, out _), $"metrics.jsonl lacks {name}");
        }
    }

    /// <summary>A run interrupted at a checkpoint and resumed ends with bit-identical weights and the same metrics.</summary>
    [Theory]
    [InlineData("dro-v", "adamw")]
    [InlineData("kto", "adafactor")]
    public void InterruptedAndResumedRunIsBitIdentical(string algo, string optimizer)
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            string data = FeedbackFixture.Write(dir);
            string tok = Path.Combine(dir, "tokenizer.json"), m0 = Path.Combine(dir, "m0");
            CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", data, "--out", tok);
            CliRunner.Ok("init", "--preset", "t5-tiny", "--tokenizer", tok, "--out", m0, "--seed", "4");
            var tokenizer = Text.Tokenizer.FromFile(tok);
            var encoder = ITextEncoder.From(t => tokenizer.EncodeIds(t));
            TrainingOptions Options(string run) => new()
            {
                Algo = algo, Optimizer = optimizer, Model = m0, Data = data, Out = run, BatchSize = 4, GradientAccumulation = 2,
                MaxSteps = 24, WarmupSteps = 3, LearningRate = 1e-3, LogEvery = 5, SaveEvery = 0, EvalFraction = 0.2,
                EvalEvery = 8, Schedule = "cosine",
            };
            string a = Path.Combine(dir, "a"), b = Path.Combine(dir, "b");
            using (var t = new AlignmentTrainer(Options(a), encoder, TextWriter.Null)) Assert.False(t.Train(resume: false, CancellationToken.None).Interrupted);

            using (var cts = new CancellationTokenSource())
            using (var t = new AlignmentTrainer(Options(b), encoder, TextWriter.Null))
            {
                t.StepCompleted += s => { if (s == 11) cts.Cancel(); };
                var r = t.Train(resume: false, cts.Token);
                Assert.True(r.Interrupted);
                Assert.Equal(11, r.Steps);
            }
            Assert.False(Directory.Exists(Path.Combine(b, "final")));
            var (code, _, err) = CliRunner.Run("train", "--resume", b);
            Assert.True(code == 0, err);

            foreach (var file in new[] { "model.safetensors", Path.Combine("value", "model.safetensors") })
            {
                string fa = Path.Combine(a, "final", file), fb = Path.Combine(b, "final", file);
                if (!File.Exists(fa)) { Assert.False(File.Exists(fb)); continue; }
                Assert.True(File.ReadAllBytes(fa).AsSpan().SequenceEqual(File.ReadAllBytes(fb)), $"{file} differs after resume");
            }
            static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"tokens_per_s\":[^,}]*,?", "");
            Assert.Equal(File.ReadLines(Path.Combine(a, "metrics.jsonl")).Select(Strip), File.ReadLines(Path.Combine(b, "metrics.jsonl")).Select(Strip));
        }
    }
}
