using DroSharp.Models.Checkpoints;
using System.Globalization;
using System.Text;

namespace DroSharp.Arena.Reports;

/// <summary>
/// A small, dependency-free chart written as self-contained SVG 1.1: line series (with optional error
/// bands), labelled scatter points (with optional error bars), dashed horizontal reference lines, axes with
/// nice ticks and grid, axis labels, a title and a legend at the right. Non-finite values are not drawn
/// (they break a line); everything else is.
/// </summary>
public sealed class SvgPlot
{
    // Okabe–Ito, readable by colour-blind readers; the first entries are the most distinct.
    private static readonly string[] Palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
    private const string ReferenceColor = "#666666";
    private static readonly string[] ReferenceDashes = ["6 4", "2 3", "10 3 2 3", "1 6"];
    private const int MarginLeft = 72, MarginTop = 44, MarginBottom = 56, LegendWidth = 180, MarginRight = 16;
    private const int MaxMarkers = 60;

    public SvgPlot(string title, string xLabel, string yLabel)
    {
        Title = title ?? throw new ArgumentNullException(nameof(title));
        XLabel = xLabel ?? throw new ArgumentNullException(nameof(xLabel));
        YLabel = yLabel ?? throw new ArgumentNullException(nameof(yLabel));
    }

    public string Title { get; }
    public string XLabel { get; }
    public string YLabel { get; }
    public int Width { get; init; } = 760;
    public int Height { get; init; } = 440;

    public List<PlotSeries> Series { get; } = [];
    public List<PlotPoint> Points { get; } = [];
    public List<ReferenceLine> ReferenceLines { get; } = [];

    public SvgPlot Add(PlotSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.X.Count != series.Y.Count)
            throw new ArgumentException($"plot '{Title}', series '{series.Name}': {series.X.Count} x values but {series.Y.Count} y values");
        if (series.Band is not null && series.Band.Count != series.Y.Count)
            throw new ArgumentException($"plot '{Title}', series '{series.Name}': {series.Band.Count} band values for {series.Y.Count} points");
        Series.Add(series);
        return this;
    }

    public SvgPlot Add(PlotPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        Points.Add(point);
        return this;
    }

    public SvgPlot Add(ReferenceLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        ReferenceLines.Add(line);
        return this;
    }

    /// <summary>Writes the SVG to a temporary file next to <paramref name="path"/> and renames it into place.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToSvg());

    public string ToSvg()
    {
        if (Width < 200 || Height < 150) throw new InvalidOperationException($"plot '{Title}': {Width}×{Height} is too small (min 200×150)");
        var colors = AssignColors();
        int plotLeft = MarginLeft, plotTop = MarginTop;
        int plotRight = Width - LegendWidth - MarginRight, plotBottom = Height - MarginBottom;

        var sb = new StringBuilder();
        sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"));
        sb.Append("<title>").Append(Escape(Title)).Append("</title>\n");
        sb.Append(Inv($"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n"));
        sb.Append(Inv($"<text class=\"title\" x=\"{(plotLeft + plotRight) / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">")).Append(Escape(Title)).Append("</text>\n");

        if (!TryRange(out double xMin, out double xMax, out double yMin, out double yMax))
        {
            sb.Append(Inv($"<rect x=\"{plotLeft}\" y=\"{plotTop}\" width=\"{plotRight - plotLeft}\" height=\"{plotBottom - plotTop}\" fill=\"none\" stroke=\"#333333\"/>\n"));
            sb.Append(Inv($"<text x=\"{(plotLeft + plotRight) / 2}\" y=\"{(plotTop + plotBottom) / 2}\" text-anchor=\"middle\" fill=\"#666666\">no data</text>\n"));
            AppendAxisLabels(sb, plotLeft, plotTop, plotRight, plotBottom);
            sb.Append("</svg>\n");
            return sb.ToString();
        }

        var xt = AxisTicks.For(xMin, xMax);
        var yt = AxisTicks.For(yMin, yMax);
        double Sx(double x) => plotLeft + (x - xt.Min) / (xt.Max - xt.Min) * (plotRight - plotLeft);
        double Sy(double y) => plotBottom - (y - yt.Min) / (yt.Max - yt.Min) * (plotBottom - plotTop);

        // Grid and ticks.
        sb.Append("<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n");
        foreach (double v in xt.Values()) sb.Append(Inv($"<line x1=\"{F(Sx(v))}\" y1=\"{plotTop}\" x2=\"{F(Sx(v))}\" y2=\"{plotBottom}\"/>\n"));
        foreach (double v in yt.Values()) sb.Append(Inv($"<line x1=\"{plotLeft}\" y1=\"{F(Sy(v))}\" x2=\"{plotRight}\" y2=\"{F(Sy(v))}\"/>\n"));
        sb.Append("</g>\n");
        sb.Append("<g class=\"x-ticks\" text-anchor=\"middle\" fill=\"#333333\">\n");
        foreach (double v in xt.Values())
        {
            sb.Append(Inv($"<line x1=\"{F(Sx(v))}\" y1=\"{plotBottom}\" x2=\"{F(Sx(v))}\" y2=\"{plotBottom + 5}\" stroke=\"#333333\"/>"));
            sb.Append(Inv($"<text x=\"{F(Sx(v))}\" y=\"{plotBottom + 18}\">{xt.Format(v)}</text>\n"));
        }
        sb.Append("</g>\n");
        sb.Append("<g class=\"y-ticks\" text-anchor=\"end\" fill=\"#333333\">\n");
        foreach (double v in yt.Values())
        {
            sb.Append(Inv($"<line x1=\"{plotLeft - 5}\" y1=\"{F(Sy(v))}\" x2=\"{plotLeft}\" y2=\"{F(Sy(v))}\" stroke=\"#333333\"/>"));
            sb.Append(Inv($"<text x=\"{plotLeft - 8}\" y=\"{F(Sy(v) + 4)}\">{yt.Format(v)}</text>\n"));
        }
        sb.Append("</g>\n");
        AppendAxisLabels(sb, plotLeft, plotTop, plotRight, plotBottom);

        // Reference lines.
        for (int r = 0; r < ReferenceLines.Count; r++)
        {
            var line = ReferenceLines[r];
            if (!double.IsFinite(line.Y)) continue;
            double ly = Sy(line.Y);
            sb.Append(Inv($"<line class=\"reference\" x1=\"{plotLeft}\" y1=\"{F(ly)}\" x2=\"{plotRight}\" y2=\"{F(ly)}\" stroke=\"{ReferenceColor}\" stroke-width=\"1.5\" stroke-dasharray=\"{ReferenceDashes[r % ReferenceDashes.Length]}\"/>"));
            sb.Append('\n');
        }

        // Bands first so that every line is drawn over every band.
        foreach (var s in Series)
        {
            if (s.Band is null) continue;
            foreach (var segment in Segments(s))
            {
                var upper = segment.Select(i => $"{F(Sx(s.X[i]))},{F(Sy(s.Y[i] + Math.Abs(s.Band[i])))}");
                var lower = segment.AsEnumerable().Reverse().Select(i => $"{F(Sx(s.X[i]))},{F(Sy(s.Y[i] - Math.Abs(s.Band[i])))}");
                sb.Append($"<polygon class=\"band\" points=\"{string.Join(' ', upper.Concat(lower))}\" fill=\"{colors[s.Name]}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n");
            }
        }
        foreach (var s in Series)
        {
            sb.Append($"<g class=\"series\" data-name=\"{Escape(s.Name)}\">\n");
            foreach (var segment in Segments(s))
            {
                string pts = string.Join(' ', segment.Select(i => $"{F(Sx(s.X[i]))},{F(Sy(s.Y[i]))}"));
                string dash = s.Dashed ? " stroke-dasharray=\"6 4\"" : "";
                if (segment.Count > 1)
                    sb.Append($"<polyline points=\"{pts}\" fill=\"none\" stroke=\"{colors[s.Name]}\" stroke-width=\"2\" stroke-linejoin=\"round\"{dash}/>\n");
                if ((s.Markers && s.Y.Count <= MaxMarkers) || segment.Count == 1) // a lone point needs its dot
                    foreach (int i in segment)
                        sb.Append($"<circle cx=\"{F(Sx(s.X[i]))}\" cy=\"{F(Sy(s.Y[i]))}\" r=\"3\" fill=\"{colors[s.Name]}\"/>\n");
            }
            sb.Append("</g>\n");
        }

        // Scatter points with error bars and labels.
        foreach (var p in Points)
        {
            if (!double.IsFinite(p.X) || !double.IsFinite(p.Y)) continue;
            string color = colors[GroupOf(p)];
            double cx = Sx(p.X), cy = Sy(p.Y);
            sb.Append($"<g class=\"point\" data-label=\"{Escape(p.Label)}\">");
            if (p.XError is double xe && double.IsFinite(xe) && xe != 0)
            {
                double a = Sx(p.X - Math.Abs(xe)), b = Sx(p.X + Math.Abs(xe));
                sb.Append($"<line x1=\"{F(a)}\" y1=\"{F(cy)}\" x2=\"{F(b)}\" y2=\"{F(cy)}\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
                sb.Append($"<line x1=\"{F(a)}\" y1=\"{F(cy - 4)}\" x2=\"{F(a)}\" y2=\"{F(cy + 4)}\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
                sb.Append($"<line x1=\"{F(b)}\" y1=\"{F(cy - 4)}\" x2=\"{F(b)}\" y2=\"{F(cy + 4)}\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
            }
            if (p.YError is double ye && double.IsFinite(ye) && ye != 0)
            {
                double a = Sy(p.Y - Math.Abs(ye)), b = Sy(p.Y + Math.Abs(ye));
                sb.Append($"<line x1=\"{F(cx)}\" y1=\"{F(a)}\" x2=\"{F(cx)}\" y2=\"{F(b)}\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
                sb.Append($"<line x1=\"{F(cx - 4)}\" y1=\"{F(a)}\" x2=\"{F(cx + 4)}\" y2=\"{F(a)}\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
                sb.Append($"<line x1=\"{F(cx - 4)}\" y1=\"{F(b)}\" x2=\"{F(cx + 4)}\" y2=\"{F(b)}\" stroke=\"{color}\" stroke-width=\"1.5\"/>");
            }
            sb.Append($"<circle cx=\"{F(cx)}\" cy=\"{F(cy)}\" r=\"5\" fill=\"{color}\" stroke=\"#ffffff\" stroke-width=\"1\"/>");
            if (p.ShowLabel)
            {
                bool leftSide = cx > plotRight - 90; // keep labels inside the plot
                string anchor = leftSide ? "end" : "start";
                double tx = leftSide ? cx - 8 : cx + 8;
                sb.Append($"<text x=\"{F(tx)}\" y=\"{F(cy - 7)}\" text-anchor=\"{anchor}\" fill=\"{color}\">{Escape(p.Label)}</text>");
            }
            sb.Append("</g>\n");
        }

        sb.Append(Inv($"<rect x=\"{plotLeft}\" y=\"{plotTop}\" width=\"{plotRight - plotLeft}\" height=\"{plotBottom - plotTop}\" fill=\"none\" stroke=\"#333333\"/>\n"));
        AppendLegend(sb, colors, plotRight + 16, plotTop);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private void AppendAxisLabels(StringBuilder sb, int plotLeft, int plotTop, int plotRight, int plotBottom)
    {
        sb.Append(Inv($"<text class=\"x-label\" x=\"{(plotLeft + plotRight) / 2}\" y=\"{Height - 14}\" text-anchor=\"middle\" font-size=\"13\">")).Append(Escape(XLabel)).Append("</text>\n");
        int cy = (plotTop + plotBottom) / 2;
        sb.Append(Inv($"<text class=\"y-label\" x=\"18\" y=\"{cy}\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 {cy})\">")).Append(Escape(YLabel)).Append("</text>\n");
    }

    private void AppendLegend(StringBuilder sb, Dictionary<string, string> colors, int x, int y)
    {
        sb.Append("<g class=\"legend\">\n");
        int row = 0;
        foreach (var (name, color) in colors)
        {
            double ly = y + 10 + row * 20;
            bool isLine = Series.Any(s => s.Name == name);
            bool dashed = Series.Any(s => s.Name == name && s.Dashed);
            if (isLine)
                sb.Append(Inv($"<line x1=\"{x}\" y1=\"{F(ly)}\" x2=\"{x + 24}\" y2=\"{F(ly)}\" stroke=\"{color}\" stroke-width=\"2.5\"{(dashed ? " stroke-dasharray=\"6 4\"" : "")}/>"));
            else
                sb.Append(Inv($"<circle cx=\"{x + 12}\" cy=\"{F(ly)}\" r=\"5\" fill=\"{color}\"/>"));
            sb.Append(Inv($"<text x=\"{x + 32}\" y=\"{F(ly + 4)}\">")).Append(Escape(Shorten(name))).Append("</text>\n");
            row++;
        }
        for (int r = 0; r < ReferenceLines.Count; r++)
        {
            var line = ReferenceLines[r];
            double ly = y + 10 + row * 20;
            sb.Append(Inv($"<line x1=\"{x}\" y1=\"{F(ly)}\" x2=\"{x + 24}\" y2=\"{F(ly)}\" stroke=\"{ReferenceColor}\" stroke-width=\"1.5\" stroke-dasharray=\"{ReferenceDashes[r % ReferenceDashes.Length]}\"/>"));
            sb.Append(Inv($"<text x=\"{x + 32}\" y=\"{F(ly + 4)}\">")).Append(Escape(Shorten(line.Name))).Append("</text>\n");
            row++;
        }
        sb.Append("</g>\n");
    }

    /// <summary>Series names, then point groups not named like a series, each with the next palette colour.</summary>
    private Dictionary<string, string> AssignColors()
    {
        var colors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in Series.Select(s => s.Name).Concat(Points.Select(GroupOf)))
            if (!colors.ContainsKey(name)) colors[name] = Palette[colors.Count % Palette.Length];
        return colors;
    }

    private static string GroupOf(PlotPoint p) => p.Group ?? p.Label;

    private bool TryRange(out double xMin, out double xMax, out double yMin, out double yMax)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        foreach (var s in Series)
        {
            for (int i = 0; i < s.Y.Count; i++)
            {
                if (!double.IsFinite(s.X[i]) || !double.IsFinite(s.Y[i])) continue;
                xs.Add(s.X[i]); ys.Add(s.Y[i]);
                if (s.Band is not null && double.IsFinite(s.Band[i])) { ys.Add(s.Y[i] - Math.Abs(s.Band[i])); ys.Add(s.Y[i] + Math.Abs(s.Band[i])); }
            }
        }
        foreach (var p in Points)
        {
            if (!double.IsFinite(p.X) || !double.IsFinite(p.Y)) continue;
            xs.Add(p.X); ys.Add(p.Y);
            if (p.XError is double xe && double.IsFinite(xe)) { xs.Add(p.X - Math.Abs(xe)); xs.Add(p.X + Math.Abs(xe)); }
            if (p.YError is double ye && double.IsFinite(ye)) { ys.Add(p.Y - Math.Abs(ye)); ys.Add(p.Y + Math.Abs(ye)); }
        }
        if (xs.Count == 0)
        {
            xMin = xMax = yMin = yMax = double.NaN;
            return false;
        }
        ys.AddRange(ReferenceLines.Select(l => l.Y).Where(double.IsFinite));
        xMin = xs.Min(); xMax = xs.Max(); yMin = ys.Min(); yMax = ys.Max();
        return true;
    }

    /// <summary>Runs of consecutive indices whose x and y (and band, when present) are finite.</summary>
    private static List<List<int>> Segments(PlotSeries s)
    {
        var segments = new List<List<int>>();
        List<int>? current = null;
        for (int i = 0; i < s.Y.Count; i++)
        {
            bool ok = double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i]) && (s.Band is null || double.IsFinite(s.Band[i]));
            if (!ok) { current = null; continue; }
            if (current is null) { current = []; segments.Add(current); }
            current.Add(i);
        }
        return segments;
    }

    private static string Shorten(string text) => text.Length <= 24 ? text : text[..23] + "…";

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>XML-escapes text and attribute values.</summary>
    internal static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                default:
                    if (c < 0x20 && c is not ('\t' or '\n' or '\r')) sb.Append('?'); // not allowed in XML 1.0
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
