using System.Text.Json;
using DroSharp.Alignment.Training;

namespace DroSharp.Cli.Tests;

/// <summary>
/// LoRA through the CLI with a tiny decoder (<c>dro init --preset qwen3-tiny</c>): train, resume
/// bit-identically, generate and score from the adapter directory, merge.
/// </summary>
public class LoraEndToEndTests
{
    private static (TempDirectory Temp, string Data, string Tokenizer, string Model) Setup()
    {
        var temp = new TempDirectory("drosharp-cli-");
        string dir = temp.Path;
        string data = FeedbackFixture.Write(dir);
        string tok = Path.Combine(dir, "tokenizer.json"), m0 = Path.Combine(dir, "m0");
        CliRunner.Ok("tokenizer", "train", "--type", "wordlevel", "--vocab-size", "100", "--data", data, "--out", tok);
        CliRunner.Ok("init", "--preset", "qwen3-tiny", "--tokenizer", tok, "--out", m0, "--seed", "3");
        return (temp, data, tok, m0);
    }

    private static double[] Scores(string dir, string model, string probe)
    {
        string outFile = Path.Combine(dir, "scores-" + Guid.NewGuid().ToString("N")[..8] + ".jsonl");
        CliRunner.Ok("score", "--model", model, "--data", probe, "--out", outFile);
        return File.ReadLines(outFile).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("logprob").GetDouble()).ToArray();
    }

    /// <summary>
    /// dro train --lora 8 raises the thumbs-up response as full fine-tuning does; RUN/final is a PEFT
    /// adapter naming its base that generate and score load; dro merge gives the same scores.
    /// </summary>
    [Fact]
    public void LoraRunRaisesTheThumbsUpResponseAndItsAdapterServesGenerateScoreAndMerge()
    {
        var (temp, data, _, m0) = Setup();
        using (temp)
        {
            string dir = temp.Path;
            string run = Path.Combine(dir, "run");
            string log = CliRunner.Ok("train", "--model", m0, "--data", data, "--out", run, "--lora", "8", "--batch-size", "8",
                "--max-steps", "120", "--warmup-steps", "10", "--lr", "1e-2", "--log-every", "20", "--save-every", "0");
            Assert.Contains("done: 120 steps", log);
            string final = Path.Combine(run, "final");
            foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors", "tokenizer.json", Path.Combine("value", "adapter_model.safetensors") })
                Assert.True(File.Exists(Path.Combine(final, f)), f);
            Assert.False(File.Exists(Path.Combine(final, "model.safetensors")));
            using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(final, "adapter_config.json"))))
            {
                Assert.Equal(Path.GetFullPath(m0), config.RootElement.GetProperty("base_model_name_or_path").GetString());
                Assert.Equal(8, config.RootElement.GetProperty("r").GetInt32());
                Assert.Equal("CAUSAL_LM", config.RootElement.GetProperty("task_type").GetString());
            }
            using (var options = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))))
                Assert.Equal(8, options.RootElement.GetProperty("lora").GetInt32());

            string probe = Path.Combine(dir, "probe.jsonl");
            using (var w = new StreamWriter(probe))
                for (int i = 0; i < 12; i++)
                    foreach (var c in FeedbackFixture.Colors)
                        w.WriteLine(JsonSerializer.Serialize(new { prompt = FeedbackFixture.Prompt(i), completion = $"it is {c}" }));
            double Margin(double[] lp)
            {
                double margin = 0;
                for (int i = 0; i < 12; i++)
                {
                    int right = Array.IndexOf(FeedbackFixture.Colors, FeedbackFixture.RightColor(i));
                    var row = lp.Skip(i * FeedbackFixture.Colors.Length).Take(FeedbackFixture.Colors.Length).ToArray();
                    margin += row[right] - row.Where((_, j) => j != right).Average();
                }
                return margin / 12;
            }
            double before = Margin(Scores(dir, m0, probe));
            var adapted = Scores(dir, final, probe);
            double after = Margin(adapted);
            Assert.True(after > before + 1.0, $"log-prob margin of the thumbs-up response: before {before:F3}, after {after:F3}");

            // Generate from the adapter directory (base + adapter, tokenizer carried into final/).
            string prompts = Path.Combine(dir, "prompts.jsonl");
            File.WriteAllLines(prompts, Enumerable.Range(0, 3).Select(i => JsonSerializer.Serialize(new { prompt = FeedbackFixture.Prompt(i) })));
            string gen = Path.Combine(dir, "gen.jsonl");
            CliRunner.Ok("generate", "--model", final, "--prompts", prompts, "--out", gen, "--temperature", "0", "--max-new-tokens", "4");
            var lines = File.ReadAllLines(gen);
            Assert.Equal(3, lines.Length);
            Assert.All(lines, l => Assert.True(JsonDocument.Parse(l).RootElement.GetProperty("completion_ids").GetArrayLength() > 0));

            // Merge: an HF model directory with the base's tokenizer that scores as base + adapter.
            string merged = Path.Combine(dir, "merged");
            CliRunner.Ok("merge", "--adapter", final, "--out", merged);
            Assert.True(File.Exists(Path.Combine(merged, "config.json")) && File.Exists(Path.Combine(merged, "model.safetensors")) && File.Exists(Path.Combine(merged, "tokenizer.json")));
            var mergedScores = Scores(dir, merged, probe);
            for (int i = 0; i < adapted.Length; i++) Assert.True(Math.Abs(adapted[i] - mergedScores[i]) < 1e-4 * Math.Max(1, Math.Abs(adapted[i])), $"row {i}: {adapted[i]} vs merged {mergedScores[i]}");
        }
    }

    /// <summary>Interrupted at step 7 and resumed with dro train --resume: the same adapter bytes and metrics as an uninterrupted run.</summary>
    [Fact]
    public void InterruptedAndResumedLoraRunIsBitIdentical()
    {
        var (temp, data, tok, m0) = Setup();
        using (temp)
        {
            string dir = temp.Path;
            var tokenizer = Text.Tokenizer.FromFile(tok);
            var encoder = ModelDirectory.Encoder(tokenizer, LoadTokens(m0)); // as dro train encodes text for this model
            TrainingOptions Options(string run) => new()
            {
                Algo = "dro-v", Model = m0, Data = data, Out = run, BatchSize = 4, GradientAccumulation = 2, MaxSteps = 16, WarmupSteps = 2,
                LearningRate = 5e-3, LogEvery = 3, SaveEvery = 0, EvalFraction = 0.2, EvalEvery = 5, Schedule = "cosine",
                Lora = 8, LoraDropout = 0.1, BaseDtype = "bf16", GradientCheckpointing = true,
            };
            string a = Path.Combine(dir, "a"), b = Path.Combine(dir, "b");
            using (var t = new AlignmentTrainer(Options(a), encoder, TextWriter.Null)) Assert.False(t.Train(resume: false, CancellationToken.None).Interrupted);
            using (var cts = new CancellationTokenSource())
            using (var t = new AlignmentTrainer(Options(b), encoder, TextWriter.Null))
            {
                t.StepCompleted += s => { if (s == 7) cts.Cancel(); };
                Assert.True(t.Train(resume: false, cts.Token).Interrupted);
            }
            var (code, _, err) = CliRunner.Run("train", "--resume", b);
            Assert.True(code == 0, err);
            foreach (var file in new[] { "adapter_model.safetensors", Path.Combine("value", "adapter_model.safetensors"), "adapter_config.json" })
                Assert.True(File.ReadAllBytes(Path.Combine(a, "final", file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, "final", file))), $"{file} differs after resume");
            static string Strip(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"tokens_per_s\":[^,}]*,?", "");
            Assert.Equal(File.ReadLines(Path.Combine(a, "metrics.jsonl")).Select(Strip), File.ReadLines(Path.Combine(b, "metrics.jsonl")).Select(Strip));
        }
    }

    private static Models.SpecialTokens LoadTokens(string model)
    {
        using var p = Models.ModelFamilies.LoadPolicy(model);
        return p.Tokens;
    }

    [Fact]
    public void HelpSaysWhenLoraIsTheBetterChoiceAndBadCombinationsAreOneLineErrors()
    {
        var (code, output, _) = CliRunner.Run("train", "--help");
        Assert.Equal(0, code);
        foreach (var opt in new[] { "--lora", "--lora-alpha", "--lora-dropout", "--lora-targets", "--use-rslora", "--base-dtype", "--gradient-checkpointing" })
            Assert.Contains(opt, output);
        Assert.Contains("~50M parameters", output);
        Assert.Contains("all-linear", output);

        var (temp, data, _, m0) = Setup();
        using (temp)
        {
            string dir = temp.Path;
            var (c1, _, e1) = CliRunner.Run("train", "--model", m0, "--data", data, "--out", Path.Combine(dir, "r"), "--base-dtype", "bf16");
            Assert.Equal(1, c1);
            Assert.Contains("--lora", e1);
            var (c2, _, e2) = CliRunner.Run("train", "--model", m0, "--data", data, "--out", Path.Combine(dir, "r2"), "--lora", "4", "--lora-targets", "qkv");
            Assert.Equal(1, c2);
            Assert.Contains("--lora-targets", e2);
            Assert.DoesNotContain("   at ", e2);
            var (c3, _, e3) = CliRunner.Run("merge", "--adapter", m0, "--out", Path.Combine(dir, "m"));
            Assert.Equal(1, c3);
            Assert.Contains("not a LoRA adapter directory", e3);
        }
    }

    /// <summary>dro bench step times the LoRA configurations (a tiny preset, one step: a check that it runs, not a measurement).</summary>
    [Fact]
    public void BenchStepRunsTheLoraConfigurations()
    {
        string output = CliRunner.Ok("bench", "step", "--preset", "qwen3-tiny", "--batch", "2", "--prompt-len", "6", "--response-len", "5", "--steps", "1",
            "--lora", "4", "--base-dtype", "bf16", "--gradient-checkpointing", "--json");
        using var doc = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var r = doc.RootElement;
        Assert.Equal(4, r.GetProperty("lora").GetInt32());
        Assert.Equal("bf16", r.GetProperty("base_dtype").GetString());
        Assert.True(r.GetProperty("gradient_checkpointing").GetBoolean());
        Assert.True(r.GetProperty("tokens_per_s").GetDouble() > 0);
        var (code, _, err) = CliRunner.Run("bench", "step", "--preset", "qwen3-tiny", "--base-dtype", "bf16");
        Assert.Equal(1, code);
        Assert.Contains("--lora", err);
    }
}
