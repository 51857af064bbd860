namespace DroSharp.Arena.Reports;

/// <summary>The runs of one algorithm (<c>dro-v</c>, <c>kto</c>, <c>sft</c>…), one per seed.</summary>
public sealed class AlgorithmResult
{
    public string Name { get; set; } = "";

    public List<SeedResult> Seeds { get; set; } = [];
}
