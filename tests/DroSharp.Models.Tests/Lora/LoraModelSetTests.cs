using DroSharp.Models.Lora;
using DroSharp.Models.Values;
using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Tests.Lora;

/// <summary>
/// One frozen base for three roles: policy = base + policy adapter, reference = base with adapters off,
/// value = base + value adapter + head. No second copy of any base tensor; each forward uses its own adapter.
/// </summary>
public sealed class LoraModelSetTests
{
    [Theory]
    [InlineData("qwen3", BaseWeightDtype.Float32)]
    [InlineData("qwen3", BaseWeightDtype.BFloat16)]
    [InlineData("t5-tiny", BaseWeightDtype.Float32)]
    public void TheBaseIsLoadedOnceAndOnlyAdaptersAndTheHeadTrain(string name, BaseWeightDtype dtype)
    {
        string baseDir = LoraTestFiles.BaseOf(name);
        var set = LoraModelSet.Load(baseDir, new LoraOptions { Rank = 4, Alpha = 8 }, dtype, new DeterministicRandom(1));
        using var policy = set.Policy;
        using var value = set.CreateValueModel(ValueModelKind.OwnBackbone, new DeterministicRandom(2));
        using var reference = set.Reference;
        Assert.Same(set.Base, reference.Base);

        // Every base tensor is owned by the base alone and frozen.
        var baseTensors = new HashSet<Tensor>(set.Base.Parameters.All, ReferenceEqualityComparer.Instance);
        Assert.All(set.Base.Parameters.All, p => Assert.False(p.RequiresGrad));
        Assert.DoesNotContain(policy.Parameters.All, baseTensors.Contains);
        Assert.DoesNotContain(value.Parameters.All, baseTensors.Contains);
        Assert.Empty(reference.Parameters.All);
        Assert.All(policy.Parameters.All, p => Assert.Matches(@"\.lora_[AB]\.policy\.weight$", p.Name));
        Assert.All(value.Parameters.All, p => Assert.Matches(@"(\.lora_[AB]\.value\.weight|^value_head\.(weight|bias))$", p.Name));

        // Parameter counts: r·(in + out) per adapted module; the value adapts what its forward runs through.
        var linears = set.Base.Parameters.Linears;
        long PerModule(IEnumerable<Tensors.Modules.Linear> ls) => ls.Sum(l => 4L * (l.InFeatures + l.OutFeatures));
        Assert.Equal(PerModule(linears), policy.Parameters.ElementCount);
        var valueLinears = name == "t5-tiny" ? linears.Where(l => l.Name.StartsWith("encoder.", StringComparison.Ordinal)) : linears;
        Assert.Equal(PerModule(valueLinears) + set.Base.Config.HiddenSize + 1, value.Parameters.ElementCount);
        // The trainable total is a small fraction of the base (these tiny models are all adapters; still < 1 copy).
        long baseElements = set.Base.Parameters.ElementCount + set.Base.Parameters.BFloat16Weights.Sum(m => (long)m.Length);
        Assert.True(policy.Parameters.ElementCount + value.Parameters.ElementCount < baseElements);
        if (dtype == BaseWeightDtype.BFloat16) Assert.Equal(linears.Count, set.Base.Parameters.BFloat16Weights.Count);
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("t5-tiny")]
    public void ReferenceIsTheBaseWithAdaptersOffAndEachForwardUsesItsOwnAdapter(string name)
    {
        string baseDir = LoraTestFiles.BaseOf(name);
        var rows = LoraTestFiles.Rows(name);
        var set = LoraModelSet.Load(baseDir, new LoraOptions { Rank = 2, Alpha = 4, Dropout = 0.1 }, BaseWeightDtype.Float32, new DeterministicRandom(1));
        using var policy = set.Policy;
        using var value = (LoraValueModel)set.CreateValueModel(ValueModelKind.OwnBackbone, new DeterministicRandom(2));
        LoraTestFiles.PerturbB(policy.Adapters, 3);
        LoraTestFiles.PerturbB(value.Adapters, 4);

        using (var alone = ModelFamilies.LoadPolicy(baseDir))
            Assert.Equal(0, LoraTestFiles.MaxAbsDiff(LoraTestFiles.TokenLogps(alone, rows), LoraTestFiles.TokenLogps(set.Reference, rows)));
        Assert.True(LoraTestFiles.MaxAbsDiff(LoraTestFiles.TokenLogps(set.Reference, rows), LoraTestFiles.TokenLogps(policy, rows)) > 1e-3);

        // A gradient of log π reaches the policy adapter only; a gradient of V the value adapter and head only.
        using var batch = policy.CreateBatch(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Completion).ToList());
        using var ones = Tensor.FromArray(Enumerable.Repeat(1f, rows.Count).ToArray(), new Shape(rows.Count));
        void Backward(bool policySeed, bool valueSeed)
        {
            foreach (var p in policy.Parameters.All.Concat(value.Parameters.All)) p.Grad = null;
            using var tape = new Tape();
            Tensor logp, v;
            using (tape.Activate())
            {
                var output = policy.Forward(batch);
                logp = PolicyScoring.SequenceLogProbs(output, batch, false);
                v = value.Forward(batch, output);
            }
            var seeds = new List<(Tensor, Tensor)>();
            if (policySeed) seeds.Add((logp, ones));
            if (valueSeed) seeds.Add((v, ones));
            tape.Backward(seeds.ToArray());
        }
        static bool Any(ParameterSet ps) => ps.All.Any(p => p.Grad is { } g && g.Span.ToArray().Any(x => x != 0));
        Backward(true, false);
        Assert.True(Any(policy.Parameters));
        Assert.False(Any(value.Parameters));
        Backward(false, true);
        Assert.False(Any(policy.Parameters));
        Assert.All(value.Parameters.All, p => Assert.True(p.Grad is { } g && g.Span.ToArray().Any(x => x != 0), $"{p.Name} got no value gradient"));
    }

    [Fact]
    public void ValueAdapterSavesWithItsHeadAsModulesToSaveAndLoadsBack()
    {
        using var files = new LoraTestFiles();
        var set = LoraModelSet.Load(LoraTestFiles.BaseOf("qwen3"), new LoraOptions { Rank = 2, Alpha = 4, Targets = ["q_proj", "v_proj"] }, BaseWeightDtype.Float32, new DeterministicRandom(1));
        using var policy = set.Policy;
        using var value = (LoraValueModel)set.CreateValueModel(ValueModelKind.OwnBackbone, new DeterministicRandom(2));
        LoraTestFiles.PerturbB(value.Adapters, 4);
        string dir = files.PathFor("value");
        value.Save(dir);
        var config = PeftAdapterConfig.Load(dir);
        Assert.Equal(["value_head"], config.ModulesToSave);
        Assert.Null(config.TaskType);
        Assert.Equal(["q_proj", "v_proj"], config.TargetModules);
        using (var reader = DroSharp.Models.Checkpoints.SafetensorsReader.Open(Path.Combine(dir, PeftAdapterFiles.WeightsFileName)))
        {
            Assert.Contains("base_model.model.value_head.weight", reader.TensorNames);
            Assert.Contains("base_model.model.value_head.bias", reader.TensorNames);
            Assert.Contains("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", reader.TensorNames);
            Assert.Equal(2 + 2 * 2 * 3, reader.TensorNames.Count);
        }
        var saved = value.Parameters.All.Select(p => p.ToArray()).ToList();
        foreach (var p in value.Parameters.All) p.Clear();
        PeftAdapterFiles.LoadInto(dir, value.Parameters);
        Assert.Equal(saved, value.Parameters.All.Select(p => p.ToArray()));
    }
}
