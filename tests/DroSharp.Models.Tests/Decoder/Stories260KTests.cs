using System.Text.Json.Nodes;
using DroSharp.Models.Tests.Gguf;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.Decoder;

/// <summary>
/// A real trained checkpoint: llama2.c's stories260K (TinyStories; 5 layers, 8 heads, 4 KV heads, tied
/// embeddings) as an HF directory, against transformers' own float32 log-probs.
/// </summary>
public sealed class Stories260KTests
{
    [Fact]
    public void LogProbsMatchTransformersWithin1e5()
    {
        using var model = ModelFamilies.LoadPolicy(GgufTestFiles.Stories260K);
        var rows = File.ReadLines(Path.Combine(GgufTestFiles.Stories260K, "expected.jsonl")).Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var prompts = rows.Select(r => r["prompt_ids"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray()).ToList();
        var completions = rows.Select(r => r["completion_ids"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray()).ToList();
        using var tape = new Tape(recording: false);
        using var _ = tape.Activate();
        using var batch = model.CreateBatch(prompts, completions);
        var lp = model.Forward(batch).TokenLogProbs;
        // Float32 against float32 with another summation order: within 1e-5 of each row's largest |log p|
        // (the golden files' convention; measured: 3e-6 of it, 5e-5 absolute on log-probs up to 25 nats).
        for (int i = 0; i < rows.Count; i++)
        {
            var expected = rows[i]["token_logps"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
            double scale = expected.Max(Math.Abs), worst = 0, sum = 0;
            for (int j = 0; j < expected.Length; j++)
            {
                worst = Math.Max(worst, Math.Abs(expected[j] - lp[i * batch.CompletionLength + j]));
                sum += lp[i * batch.CompletionLength + j];
            }
            Assert.True(worst <= 1e-5 * scale, $"row {i}: max |Δ log p| {worst:G3} > 1e-5 × {scale:G4}");
            double expectedSum = rows[i]["logp_sum"]!.GetValue<double>();
            Assert.True(Math.Abs(sum - expectedSum) <= 1e-5 * Math.Abs(expectedSum), $"row {i}: sum {sum} vs {expectedSum}");
        }
    }
}
