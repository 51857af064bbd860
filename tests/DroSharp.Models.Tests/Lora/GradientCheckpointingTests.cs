using DroSharp.Models.Lora;
using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.Lora;

/// <summary>
/// <c>--gradient-checkpointing</c> on whole models: the policy's log-probs and the value on one tape,
/// as the trainer runs them, give bit-identical gradients with and without recomputing each block.
/// </summary>
public sealed class GradientCheckpointingTests
{
    public static TheoryData<string> Fixtures() => new("qwen3", "t5-tiny");

    private static Tensor[] Step(IPolicyModel policy, IValueModel value, IReadOnlyList<LoraTestFiles.Row> rows, bool checkpointing, out long keptBytes)
    {
        foreach (var p in policy.Parameters.All.Concat(value.Parameters.All)) p.Grad = null;
        using var batch = policy.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        using var tape = new Tape { GradientCheckpointing = checkpointing };
        Tensor logp, v;
        using (tape.Activate())
        {
            var output = policy.Forward(batch);
            logp = PolicyScoring.SequenceLogProbs(output, batch, lengthNormalize: false);
            v = value.Forward(batch, output);
        }
        keptBytes = tape.Arena.BytesInUse;
        using var gl = Tensor.FromArray(Enumerable.Range(0, rows.Count).Select(i => 0.3f - 0.1f * i).ToArray(), new Shape(rows.Count));
        using var gv = Tensor.FromArray(Enumerable.Range(0, rows.Count).Select(i => 0.5f + 0.2f * i).ToArray(), new Shape(rows.Count));
        tape.Backward([(logp, gl), (v, gv)]);
        return [.. policy.Parameters.All.Concat(value.Parameters.All).Where(p => p.RequiresGrad).Select(p => p.Grad?.Clone() ?? Tensor.Zeros(p.Shape)),
                logp.Clone(), v.Clone()];
    }

    private static void AssertSame(Tensor[] a, Tensor[] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].Shape, b[i].Shape);
            Assert.True(a[i].Span.SequenceEqual(b[i].Span), $"tensor {i} differs");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void FullFineTuningGradientsAreBitIdentical(string name)
    {
        var rows = LoraTestFiles.Rows(name);
        using var policy = ModelFamilies.LoadPolicy(LoraTestFiles.BaseOf(name));
        using var value = policy.Family.CreateValueModel(policy, ValueModelKind.OwnBackbone, new DeterministicRandom(3));
        var plain = Step(policy, value, rows, checkpointing: false, out long plainBytes);
        var ckpt = Step(policy, value, rows, checkpointing: true, out long ckptBytes);
        AssertSame(plain, ckpt);
        Assert.True(plain.Take(plain.Length - 2).Count(g => g.Span.ToArray().Any(x => x != 0)) > policy.Parameters.Count);
        Assert.True(ckptBytes < plainBytes, $"kept {ckptBytes} bytes with checkpointing, {plainBytes} without");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void LoraGradientsWithDropoutAreBitIdentical(string name)
    {
        var rows = LoraTestFiles.Rows(name);
        var set = LoraModelSet.Load(LoraTestFiles.BaseOf(name), new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.2 }, BaseWeightDtype.BFloat16, new DeterministicRandom(5));
        using var policy = set.Policy;
        using var value = set.CreateValueModel(ValueModelKind.OwnBackbone, new DeterministicRandom(6));
        LoraTestFiles.PerturbB(set.Policy.Adapters, 7);
        set.SetDropoutSeed(1234);
        var plain = Step(policy, value, rows, checkpointing: false, out _);
        var ckpt = Step(policy, value, rows, checkpointing: true, out _);
        AssertSame(plain, ckpt);
        Assert.All(set.Base.Parameters.All, p => Assert.Null(p.Grad));
        set.SetDropoutSeed(1235); // other masks, other gradients: the seed is used
        var other = Step(policy, value, rows, checkpointing: true, out _);
        Assert.False(other[0].Span.SequenceEqual(ckpt[0].Span));
    }
}
