using DroSharp.Models.Lora;
using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Tests.Lora;

/// <summary>target_modules as PEFT's check_target_module_exists matches a list: equal, or a suffix after a dot.</summary>
public sealed class LoraTargetsTests
{
    [Theory]
    [InlineData("q_proj", "model.layers.0.self_attn.q_proj", true)]
    [InlineData("self_attn.q_proj", "model.layers.0.self_attn.q_proj", true)]
    [InlineData("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.q_proj", true)]
    [InlineData("proj", "model.layers.0.self_attn.q_proj", false)]
    [InlineData("_proj", "model.layers.0.self_attn.q_proj", false)]
    [InlineData("q", "encoder.block.0.layer.0.SelfAttention.q", true)]
    [InlineData("q", "encoder.block.0.layer.0.SelfAttention.qq", false)]
    [InlineData("EncDecAttention.o", "decoder.block.1.layer.1.EncDecAttention.o", true)]
    [InlineData("EncDecAttention.o", "decoder.block.1.layer.0.SelfAttention.o", false)]
    [InlineData("layers.0.self_attn.q_proj", "model.layers.10.self_attn.q_proj", false)]
    public void MatchesAsPeftDoes(string target, string path, bool expected) =>
        Assert.Equal(expected, LoraTargets.Matches([target], path));

    [Fact]
    public void AllLinearSelectsEveryLinearAndSavesTheirLastNameComponents()
    {
        using var ps = new ParameterSet();
        var linears = new[] { "model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj", "model.layers.1.self_attn.q_proj" }
            .Select(n => new Linear(ps, n, 2, 2)).ToList();
        var all = LoraTargets.Select(linears, [LoraTargets.AllLinear]);
        Assert.Equal(3, all.Count);
        Assert.Equal(["down_proj", "q_proj"], LoraTargets.SavedNames([LoraTargets.AllLinear], all));
        Assert.Equal(2, LoraTargets.Select(linears, ["q_proj"]).Count);
        Assert.Equal(["q_proj", "v_proj"], LoraTargets.SavedNames(["v_proj", "q_proj", "v_proj"], all));
        var e = Assert.Throws<ArgumentException>(() => LoraTargets.Select(linears, ["qkv_proj"]));
        Assert.Contains("down_proj, q_proj", e.Message);
        Assert.Throws<ArgumentException>(() => LoraTargets.Select(linears, ["all-linear", "q_proj"]));
        Assert.Equal(["q_proj", "v_proj"], LoraTargets.Parse(" q_proj, v_proj ,"));
    }
}
