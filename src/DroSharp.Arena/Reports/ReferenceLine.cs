namespace DroSharp.Arena.Reports;

/// <summary>A dashed horizontal line across a plot at <see cref="Y"/>, with a legend entry (e.g. "demonstrations").</summary>
public sealed record ReferenceLine(string Name, double Y);
