using System.Text.Json.Nodes;
using DroSharp.Models.Lora;

namespace DroSharp.Models.Tests.Lora;

/// <summary>
/// Base + adapter against transformers' own code on the merged weights (PEFT's convention applied by
/// hand: Fixtures/lora/README.md), and DroSharp's merged model directory against base + adapter.
/// </summary>
public sealed class LoraMergeTests
{
    public static TheoryData<string> Fixtures() => new("qwen3", "t5-tiny");

    /// <summary>Token log-probs row by row, within <paramref name="relative"/> × the largest expected magnitude.</summary>
    private static void AssertTokenLogpsClose(string what, double[][] expected, double[][] actual, double relative)
    {
        Assert.Equal(expected.Select(r => r.Length), actual.Select(r => r.Length));
        Numerics.AssertCloseToMax(expected.SelectMany(r => r).ToArray(), actual.SelectMany(r => r).ToArray(), relative: relative, what: what);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void BasePlusAdapterScoresAsTransformersScoresTheMergedModel(string name)
    {
        using var m = LoraPolicyModel.Load(LoraTestFiles.Adapter(name));
        var rows = LoraTestFiles.Rows(name);
        var ours = LoraTestFiles.TokenLogps(m, rows);
        var expected = LoraTestFiles.ExpectedTokenLogps(name);
        AssertTokenLogpsClose(name, expected, ours, relative: 1e-5);
        // The adapter matters: the base alone is far from these numbers.
        Assert.True(LoraTestFiles.MaxAbsDiff(expected, LoraTestFiles.TokenLogps(m.Base, rows)) > 1e-2);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void MergedModelDirectoryScoresAsBasePlusAdapter(string name)
    {
        using var files = new LoraTestFiles();
        string outDir = files.PathFor("merged");
        var (baseDir, modules) = LoraMerge.Merge(LoraTestFiles.Adapter(name), null, outDir);
        Assert.Equal(Path.GetFullPath(LoraTestFiles.BaseOf(name)), baseDir);
        Assert.True(modules > 0);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!.AsObject();
        var baseConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDir, "config.json")))!.AsObject();
        Assert.Equal(baseConfig["model_type"]!.GetValue<string>(), config["model_type"]!.GetValue<string>());

        var rows = LoraTestFiles.Rows(name);
        using var adapted = LoraPolicyModel.Load(LoraTestFiles.Adapter(name));
        using var merged = ModelFamilies.LoadPolicy(outDir);
        Assert.IsNotType<LoraPolicyModel>(merged);
        Assert.Equal(adapted.Base.Parameters.All.Select(p => p.Name), merged.Parameters.All.Select(p => p.Name));
        AssertTokenLogpsClose(name, LoraTestFiles.TokenLogps(adapted, rows), LoraTestFiles.TokenLogps(merged, rows), relative: 2e-6);
        AssertTokenLogpsClose(name, LoraTestFiles.ExpectedTokenLogps(name), LoraTestFiles.TokenLogps(merged, rows), relative: 1e-5);
        // Unadapted weights are copied bit for bit.
        using var base0 = ModelFamilies.LoadPolicy(baseDir);
        var adaptedNames = adapted.Adapters.Select(a => a.Module.Name + ".weight").ToHashSet();
        foreach (var p in base0.Parameters.All.Where(p => !adaptedNames.Contains(p.Name!)))
            Assert.True(p.Span.SequenceEqual(merged.Parameters[p.Name!].Span), $"{p.Name} changed");
        foreach (var n in adaptedNames) Assert.False(base0.Parameters[n].Span.SequenceEqual(merged.Parameters[n].Span), $"{n} unchanged");

        Assert.Throws<ArgumentException>(() => LoraMerge.Merge(LoraTestFiles.Adapter(name), null, baseDir));
    }
}
