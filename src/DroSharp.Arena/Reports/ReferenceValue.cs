namespace DroSharp.Arena.Reports;

/// <summary>A named constant reward level, e.g. ("demonstrations", −0.2) or ("best achievable", 5.4).</summary>
public sealed class ReferenceValue
{
    public string Name { get; set; } = "";

    public double Value { get; set; }
}
