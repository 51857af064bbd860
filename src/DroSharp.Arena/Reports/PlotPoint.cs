namespace DroSharp.Arena.Reports;

/// <summary>
/// A labelled point of a scatter chart, with optional error bars (half-widths). Points of the same
/// <see cref="Group"/> (default: the label) share a colour and a legend entry; a group named like a line
/// series gets that series' colour.
/// </summary>
public sealed record PlotPoint(string Label, double X, double Y)
{
    public double? XError { get; init; }
    public double? YError { get; init; }
    public string? Group { get; init; }

    /// <summary>Draw the label next to the point.</summary>
    public bool ShowLabel { get; init; } = true;
}
