using DroSharp.Arena.Pipeline;

namespace DroSharp.Arena.Tests.Pipeline;

public sealed class AlgorithmSpecTests
{
    [Fact]
    public void Presets_HaveThePapersAndTrlsSettings()
    {
        var drov = AlgorithmSpec.Parse("dro-v");
        Assert.Equal(("dro-v", 1.0, "per-example"), (drov.Objective, drov.Tau, drov.Value));
        var trl = AlgorithmSpec.Parse("kto-trl");
        Assert.Equal(("kto", 0.1, "labels"), (trl.Objective, trl.Beta, trl.KtoLabel));
        var paper = AlgorithmSpec.Parse("kto-paper");
        Assert.Equal(("kto", 5.0, "batch-mean"), (paper.Objective, paper.Beta, paper.KtoLabel));
        Assert.Equal("kto-trl", AlgorithmSpec.Parse("KTO").Name); // alias, case-insensitive
        Assert.Equal("sft", AlgorithmSpec.Parse("sft-all").Objective);
        Assert.Equal("sft-pos", AlgorithmSpec.Parse("sft-pos").Objective);
    }

    [Fact]
    public void Modifiers_ChangeSettingsAndName()
    {
        var s = AlgorithmSpec.Parse("dro-v:tau=0.1:value=shared");
        Assert.Equal(0.1, s.Tau);
        Assert.Equal("shared", s.Value);
        Assert.Equal("dro-v:tau=0.1:value=shared", s.Name);
        Assert.Equal("dro-v", AlgorithmSpec.Parse("dro-v:tau=1").Name); // the preset's own value is not repeated
        var k = AlgorithmSpec.Parse("kto-paper:beta=1:lr=1e-6");
        Assert.Equal((1.0, 1e-6), (k.Beta, k.LearningRate!.Value));
        Assert.Equal("kto-paper:beta=1:lr=1e-6", k.Name);
        Assert.Equal(0.5, AlgorithmSpec.Parse("dro-v").WithRegularisation(0.5).Tau);
        Assert.Equal("dro-v:tau=0.5", AlgorithmSpec.Parse("dro-v").WithRegularisation(0.5).Name);
        Assert.Equal("kto-paper:beta=0.1", AlgorithmSpec.Parse("kto-paper").WithRegularisation(0.1).Name);
        Assert.Equal("dro-v:value=single", AlgorithmSpec.Parse("dro-v").WithValue("single").Name);
    }

    [Theory]
    [InlineData("ppo", "unknown name 'ppo'")]
    [InlineData("dpo", "preference pairs")]
    [InlineData("dro-v:beta=1", "'beta' does not apply to dro-v")]
    [InlineData("kto-trl:tau=1", "'tau' does not apply to kto")]
    [InlineData("dro-v:tau=-1", "tau must be a positive number")]
    [InlineData("dro-v:tau", "is not key=value")]
    [InlineData("dro-v:value=double", "value must be one of per-example, single, shared")]
    [InlineData("sft-pos:value=single", "'value' does not apply to sft-pos")]
    [InlineData("dro-v:speed=2", "unknown modifier 'speed'")]
    public void Parse_RejectsBadInputWithAClearMessage(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AlgorithmSpec.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ParseList_KeepsOrderAndRejectsArmsThatTrainAlike()
    {
        var list = AlgorithmSpec.ParseList(" dro-v, kto-paper ,sft-pos");
        Assert.Equal(["dro-v", "kto-paper", "sft-pos"], list.Select(a => a.Name));
        var e = Assert.Throws<FormatException>(() => AlgorithmSpec.ParseList("kto,kto-trl"));
        Assert.Contains("train the same way", e.Message);
        Assert.Throws<FormatException>(() => AlgorithmSpec.ParseList("dro-v,dro-v:tau=1"));
        Assert.Throws<FormatException>(() => AlgorithmSpec.ParseList(" , "));
    }

    [Fact]
    public void RunDirectoryName_HasNoSeparatorsThatFileSystemsDislike()
    {
        Assert.Equal("dro-v_tau-0.1", ArenaPipeline.RunDirectoryName("dro-v:tau=0.1"));
    }
}
