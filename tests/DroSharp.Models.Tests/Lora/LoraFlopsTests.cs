using DroSharp.Models.Decoder;
using DroSharp.Models.Lora;

namespace DroSharp.Models.Tests.Lora;

/// <summary>FLOP accounting of a LoRA policy: a frozen base costs forward + dX; the adapters add their own products.</summary>
public sealed class LoraFlopsTests
{
    [Fact]
    public void TheFrozenBaseCountsForwardAndInputGradientAndTheAdaptersTheirProducts()
    {
        using var m = LoraPolicyModel.Load(LoraTestFiles.Adapter("qwen3"));
        var rows = LoraTestFiles.Rows("qwen3");
        using var batch = m.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        var b = m.Base.ForwardFlops(batch);
        var f = m.ForwardFlops(batch);
        Assert.Equal(0, b.FrozenProjections);
        Assert.Equal(b.Projections, f.FrozenProjections);
        Assert.Equal(b.Attention, f.Attention);
        // Every adapted module of the decoder sees every padded position: 2·rows·r·(in + out) each. The estimate
        // may exceed it by at most the LM head's share of the base's projections.
        var causal = (CausalBatch)batch;
        double exact = m.Adapters.Sum(a => 2.0 * causal.Size * causal.Length * a.Rank * (a.Module.InFeatures + a.Module.OutFeatures));
        double linears = m.Base.Parameters.Linears.Sum(l => 2.0 * causal.Size * causal.Length * l.InFeatures * l.OutFeatures);
        Assert.InRange(f.Projections, exact * (1 - 1e-12), exact * b.Projections / linears * (1 + 1e-12));
        Assert.True(f.ForwardAndBackward < b.ForwardAndBackward, "a frozen base has no weight gradients");
        Assert.Equal(f.Projections + f.FrozenProjections + f.Attention, f.Forward, 6);
        Assert.Equal(3 * f.Projections + 2 * f.FrozenProjections + 3.5 * f.Attention, f.ForwardAndBackward, 6);
    }

    /// <summary>What checkpointing recomputes: the layers' forward, not the LM head (run once, on the completion rows); with LoRA the adapters too.</summary>
    [Fact]
    public void TheBlocksAreTheForwardWithoutTheLmHead()
    {
        using var m = LoraPolicyModel.Load(LoraTestFiles.Adapter("qwen3"));
        var rows = LoraTestFiles.Rows("qwen3");
        using var batch = m.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        var causal = (CausalBatch)batch;
        var b = m.Base.ForwardFlops(batch);
        var c = ((DecoderForCausalLM)m.Base).Config;
        double lmHead = 2.0 * causal.Size * causal.CompletionLength * c.HiddenSize * c.VocabSize;
        Assert.Equal(b.Forward - lmHead, b.InBlocks, tolerance: 1e-9 * b.Forward);
        Assert.True(b.InBlocks > 0);
        var f = m.ForwardFlops(batch);
        Assert.Equal(b.InBlocks + f.Projections, f.InBlocks, tolerance: 1e-9 * f.Forward);
    }
}
