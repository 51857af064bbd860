namespace DroSharp.Arena.Reports;

/// <summary>A plot of a report: the SVG file it is saved as, its heading and caption in report.md, and the chart.</summary>
public sealed record ReportPlot(string FileName, string Heading, string Caption, SvgPlot Plot);
