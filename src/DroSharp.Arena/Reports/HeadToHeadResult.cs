namespace DroSharp.Arena.Reports;

/// <summary>Win rate of algorithm A's sample over algorithm B's on the same held-out prompt (ties ½), per seed.</summary>
public sealed class HeadToHeadResult
{
    public string A { get; set; } = "";

    public string B { get; set; } = "";

    public List<HeadToHeadSeed> Seeds { get; set; } = [];
}
