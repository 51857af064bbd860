using System.Text.Json;

namespace DroSharp.Cli.Tests.Commands;

/// <summary><c>dro experiment</c>: the family and size options, the learning-rate grid, and its one-line errors.</summary>
public class ExperimentCommandTests
{
    /// <summary>A tiny experiment: a handful of steps and prompts (the pipeline's own tests cover what it computes).</summary>
    private static readonly string[] Tiny =
    [
        "--task", "arithmetic", "--algos", "dro-v", "--seeds", "1", "--sft-examples", "64", "--sft-steps", "8", "--feedback-prompts", "32",
        "--feedback-center", "0", "--feedback-scale", "0.1", "--steps", "4", "--batch-size", "8", "--warmup-steps", "1", "--checkpoint-every", "2",
        "--validation-prompts", "8", "--test-prompts", "8", "--d-model", "16", "--d-ff", "32", "--heads", "2",
    ];

    [Fact]
    public void LlamaFamily_MatchesTheT5sLayersUnlessGiven_AndChoosesFromTheGrid()
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            string matched = Path.Combine(dir, "matched"), given = Path.Combine(dir, "given");
            string output = CliRunner.Ok(["experiment", .. Tiny, "--family", "llama", "--lr-grid", "1e-4,1e-3", "--out", matched]);
            Assert.Contains("8 test prompts", output);
            Assert.Contains("chosen on validation", output);
            var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(matched, "results.json"))).RootElement;
            // T5 d_model 16, d_ff 32, 2+2 layers: 2·(4·256 + 3·512) + 2·(8·256 + 3·512) = 12,288 ≈ 4.8 Llama layers of 4·256 + 3·512: 5.
            Assert.StartsWith("Llama hidden 16, intermediate 32, 2 heads × head_dim 8, 5 layers", results.GetProperty("settings").GetProperty("model").GetString());
            var grid = results.GetProperty("algorithms")[1].GetProperty("selection").GetProperty("grid");
            Assert.Equal(4, grid.GetArrayLength()); // 2 learning rates × checkpoints at steps 2 and 4
            Assert.True(Directory.Exists(Path.Combine(matched, "seed-1", "runs", "dro-v", "lr-1e-3", "final")));

            CliRunner.Ok(["experiment", .. Tiny, "--family", "llama", "--layers", "1", "--out", given]);
            Assert.Contains("1 layers", File.ReadAllText(Path.Combine(given, "results.json")));
        }
    }

    [Theory]
    [InlineData("--lr-grid", "1e-4,fast", "--lr-grid: 'fast' is not a positive number")]
    [InlineData("--lr-grid", "1e-4,1e-4", "twice")]
    [InlineData("--optimum-samples", "1", "optimum samples")]
    [InlineData("--layers", "0", "--layers must be at least 1")]
    [InlineData("--resume", "--overwrite", "--overwrite or --resume")]
    public void BadOptions_AreOneLineErrors(string option, string value, string message)
    {
        using (var temp = new TempDirectory("drosharp-cli-"))
        {
            string dir = temp.Path;
            var (code, _, err) = CliRunner.Run(["experiment", .. Tiny, option, value, "--out", Path.Combine(dir, "x")]);
            Assert.Equal(1, code);
            Assert.Contains(message, err);
            Assert.DoesNotContain("   at ", err);
        }
    }
}
