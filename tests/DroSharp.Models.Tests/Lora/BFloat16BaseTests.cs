using DroSharp.Models.Lora;
using DroSharp.Models.Tests.Gguf;
using DroSharp.Tensors;

namespace DroSharp.Models.Tests.Lora;

/// <summary>A frozen base whose Linear weights are stored in bfloat16 (<c>--base-dtype bf16</c>).</summary>
public sealed class BFloat16BaseTests
{
    /// <summary>
    /// qwen3-bf16 stores its weights as BF16: they are read into bfloat16 storage bit for bit, and since the
    /// GEMM widens them exactly, the model scores exactly as when loaded into float32.
    /// </summary>
    [Fact]
    public void ABFloat16CheckpointIsReadBitForBitAndScoresExactlyAsInFloat32()
    {
        string dir = GgufTestFiles.Decoder("qwen3-bf16");
        var rows = GgufTestFiles.GoldenRows(dir).Select(r => new LoraTestFiles.Row(r.Prompt, r.Completion)).ToList();
        using var f32 = LoraModelSet.LoadBase(dir, BaseWeightDtype.Float32);
        using var bf16 = LoraModelSet.LoadBase(dir, BaseWeightDtype.BFloat16);
        Assert.Equal(f32.Parameters.Linears.Count, bf16.Parameters.BFloat16Weights.Count);
        Assert.All(bf16.Parameters.Linears, l => Assert.False(l.HasFloat32Weight));
        foreach (var (a, b) in f32.Parameters.Linears.Zip(bf16.Parameters.Linears))
        {
            using var rounded = BFloat16Matrix.FromFloat32(a.Weight);
            Assert.True(rounded.Span.SequenceEqual(b.FrozenWeight!.Span), a.Name);
        }
        // Embeddings and norms stay float32; the Linear weights take half the bytes.
        long linearElements = f32.Parameters.Linears.Sum(l => (long)l.Weight.Length);
        Assert.Equal(f32.Parameters.ElementCount - linearElements, bf16.Parameters.ElementCount);
        Assert.Contains("model.embed_tokens.weight", bf16.Parameters.All.Select(p => p.Name));
        Assert.Equal(0, LoraTestFiles.MaxAbsDiff(LoraTestFiles.TokenLogps(f32, rows), LoraTestFiles.TokenLogps(bf16, rows)));
    }

    /// <summary>
    /// A float32 model whose Linear weights are rounded to bfloat16: token log-probs move by at most the
    /// measured bound. Measured largest |Δ log p| per token (no adapter / with the fixture adapter): qwen3
    /// golden 0.0221 / 0.0208 (token log-probs down to about −10), t5-tiny 0.0884 / 0.0873 (its weights are
    /// N(0, 1)-scaled, log-probs down to about −25); the bounds allow a bit over twice that. The adapters
    /// stay float32.
    /// </summary>
    [Theory]
    [InlineData("qwen3", 0.05)]
    [InlineData("t5-tiny", 0.2)]
    public void RoundingAFloat32BaseToBFloat16StaysWithinTheMeasuredBound(string name, double bound)
    {
        var rows = LoraTestFiles.Rows(name);
        using var f32 = LoraPolicyModel.Load(LoraTestFiles.Adapter(name), baseDtype: BaseWeightDtype.Float32);
        using var bf16 = LoraPolicyModel.Load(LoraTestFiles.Adapter(name), baseDtype: BaseWeightDtype.BFloat16);
        Assert.All(bf16.Parameters.All, p => Assert.Contains(".lora_", p.Name));
        double baseDiff = LoraTestFiles.MaxAbsDiff(LoraTestFiles.TokenLogps(f32.Base, rows), LoraTestFiles.TokenLogps(bf16.Base, rows));
        double adaptedDiff = LoraTestFiles.MaxAbsDiff(LoraTestFiles.TokenLogps(f32, rows), LoraTestFiles.TokenLogps(bf16, rows));
        Assert.True(baseDiff > 0 && baseDiff <= bound, $"{name} base: max |Δ log p| {baseDiff:G4} (bound {bound})");
        Assert.True(adaptedDiff > 0 && adaptedDiff <= bound, $"{name} base + adapter: max |Δ log p| {adaptedDiff:G4} (bound {bound})");
    }
}
