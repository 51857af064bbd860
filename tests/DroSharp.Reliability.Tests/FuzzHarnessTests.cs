using DroSharp.Fuzz;

namespace DroSharp.Reliability.Tests;

/// <summary>
/// The fuzz targets run in the test suite without AFL: every seed, then a few thousand seeded mutations, and every
/// input the campaign found crashing (FuzzCrashes/TARGET/NAME, each a regression test of its fix). A target's Run
/// throws only for a finding, so any exception fails the test with the input that caused it.
/// </summary>
public sealed class FuzzHarnessTests
{
    /// <summary>2,000 per target in the suite; DROSHARP_FUZZ_MUTATIONS=N runs more (a quick uninstrumented campaign).</summary>
    private static readonly int MutationsPerTarget =
        int.TryParse(Environment.GetEnvironmentVariable("DROSHARP_FUZZ_MUTATIONS"), out int n) && n > 0 ? n : 2000;

    private static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, name);

    public static TheoryData<string> Targets() => new(FuzzTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsAndMutationsRunWithoutCrashing(string name)
    {
        var target = FuzzTargets.Get(name);
        string seeds = Path.Combine(Folder("FuzzSeeds"), name);
        Assert.True(Directory.Exists(seeds), $"target {name} has no seed corpus in fuzz/seeds/{name}");
        var corpus = Directory.GetFiles(seeds).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        Assert.NotEmpty(corpus);
        foreach (var (input, i) in corpus.Select((c, i) => (c, i))) Run(target, input, $"seed {i}");
        int seed = int.TryParse(Environment.GetEnvironmentVariable("DROSHARP_FUZZ_SEED"), out int s) ? s : 0;
        var mutator = new ByteMutator(name.Aggregate(17 + seed, (h, c) => unchecked(h * 31 + c))); // string.GetHashCode varies per process
        var small = corpus.Where(c => c.Length <= 16 << 10).DefaultIfEmpty(corpus[0]).ToList();
        for (int i = 0; i < MutationsPerTarget; i++) Run(target, mutator.Mutate(small[i % small.Count], small), $"mutation {i}");
    }

    public static TheoryData<string, string> Crashes()
    {
        var data = new TheoryData<string, string>();
        foreach (var dir in Directory.GetDirectories(Folder("FuzzCrashes")).Order(StringComparer.Ordinal))
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                data.Add(Path.GetFileName(dir), Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Crashes))]
    public void InputsTheCampaignFoundCrashingAreHandled(string target, string file) =>
        Run(FuzzTargets.Get(target), File.ReadAllBytes(Path.Combine(Folder("FuzzCrashes"), target, file)), file);

    /// <summary>DROSHARP_FUZZ_LAST=PATH: each input is written there first, so one that kills the process (a stack overflow) is kept.</summary>
    private static readonly string? LastInput = Environment.GetEnvironmentVariable("DROSHARP_FUZZ_LAST");

    private static void Run(FuzzTarget target, byte[] input, string what)
    {
        if (LastInput is not null) File.WriteAllBytes(LastInput, input);
        try
        {
            target.Run(input);
        }
        catch (Exception e)
        {
            string shown = System.Text.Encoding.UTF8.GetString(input.AsSpan(0, Math.Min(input.Length, 400)));
            string saved = Path.Combine(Path.GetTempPath(), $"drosharp-fuzz-{target.Name}-{Guid.NewGuid():N}.bin");
            File.WriteAllBytes(saved, input); // to add under FuzzCrashes/ once fixed
            shown += $"\n(saved as {saved})";
            Assert.Fail($"{target.Name}, {what}: {e.GetType().Name}: {e.Message}\ninput ({input.Length} bytes): {shown}\n{e.StackTrace}");
        }
    }
}
