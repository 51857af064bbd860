namespace DroSharp.Arena.Reports;

/// <summary>
/// A line of an <see cref="SvgPlot"/>: points (X[i], Y[i]) joined in order. A non-finite Y breaks the line.
/// When <see cref="Band"/> is set, a shaded band Y[i] ± Band[i] is drawn under it (e.g. ± 1 std over seeds).
/// </summary>
public sealed record PlotSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>Half-width of the error band at each point, or null for none.</summary>
    public IReadOnlyList<double>? Band { get; init; }

    /// <summary>Draw a dot at each point (skipped automatically on long series).</summary>
    public bool Markers { get; init; } = true;

    /// <summary>Draw the line dashed.</summary>
    public bool Dashed { get; init; }
}
