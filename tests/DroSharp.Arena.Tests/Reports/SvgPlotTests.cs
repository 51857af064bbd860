using DroSharp.Arena.Reports;

namespace DroSharp.Arena.Tests.Reports;

public class SvgPlotTests
{
    private static SvgPlot LineChart()
    {
        var plot = new SvgPlot("Reward during training", "training step", "mean reward");
        plot.Add(new PlotSeries("dro-v", [0, 100, 200, 300], [0.1, 0.8, 1.4, 1.7]) { Band = [0.05, 0.1, 0.2, 0.15] });
        plot.Add(new PlotSeries("kto", [0, 100, 200, 300], [0.1, 0.5, 0.9, 1.1]));
        plot.Add(new ReferenceLine("demonstrations", -0.2));
        return plot;
    }

    [Fact]
    public void LineChart_IsWellFormedSvgWithSeriesLabelsAndLegend()
    {
        var doc = SvgTestUtil.ParseAndCheck(LineChart().ToSvg());
        var texts = SvgTestUtil.Texts(doc).ToList();
        Assert.Contains("Reward during training", texts);
        Assert.Contains("training step", texts);
        Assert.Contains("mean reward", texts);
        Assert.Contains("dro-v", texts);
        Assert.Contains("kto", texts);
        Assert.Contains("demonstrations", texts);
        Assert.Equal("Reward during training", doc.Root!.Element(SvgTestUtil.Svg + "title")!.Value);

        var series = doc.Descendants(SvgTestUtil.Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToList();
        Assert.Equal(["dro-v", "kto"], series.Select(g => (string)g.Attribute("data-name")!));
        Assert.All(series, g => Assert.Single(g.Elements(SvgTestUtil.Svg + "polyline")));
        Assert.All(series, g => Assert.Equal(4, g.Elements(SvgTestUtil.Svg + "circle").Count()));
        Assert.Single(doc.Descendants(SvgTestUtil.Svg + "polygon")); // one band
        Assert.Single(doc.Descendants(SvgTestUtil.Svg + "line"), l => (string?)l.Attribute("class") == "reference");
        // Different colours for the two series.
        var colours = series.Select(g => (string)g.Element(SvgTestUtil.Svg + "polyline")!.Attribute("stroke")!).ToList();
        Assert.NotEqual(colours[0], colours[1]);
        // Tick labels cover the data: 0 and 300 on x.
        Assert.Contains("0", texts);
        Assert.Contains("300", texts);
    }

    [Fact]
    public void Lines_BreakAtNonFiniteValues()
    {
        var plot = new SvgPlot("t", "x", "y");
        plot.Add(new PlotSeries("s", [0, 1, 2, 3, 4], [1, 2, double.NaN, 3, 4]));
        var doc = SvgTestUtil.ParseAndCheck(plot.ToSvg());
        Assert.Equal(2, doc.Descendants(SvgTestUtil.Svg + "polyline").Count());
        Assert.Equal(4, doc.Descendants(SvgTestUtil.Svg + "circle").Count());
    }

    [Fact]
    public void Scatter_HasLabelledPointsAndErrorBars()
    {
        var plot = new SvgPlot("Reward against KL", "KL", "reward");
        plot.Add(new PlotPoint("dro-v", 2.5, 1.7) { XError = 0.3, YError = 0.2 });
        plot.Add(new PlotPoint("kto", 4.0, 1.2));
        plot.Add(new PlotPoint("sft", 0.0, 0.1));
        var doc = SvgTestUtil.ParseAndCheck(plot.ToSvg());
        var points = doc.Descendants(SvgTestUtil.Svg + "g").Where(g => (string?)g.Attribute("class") == "point").ToList();
        Assert.Equal(["dro-v", "kto", "sft"], points.Select(g => (string)g.Attribute("data-label")!));
        Assert.All(points, g => Assert.Equal((string)g.Attribute("data-label")!, g.Element(SvgTestUtil.Svg + "text")!.Value));
        Assert.Equal(6, points[0].Elements(SvgTestUtil.Svg + "line").Count()); // two bars with two caps each
        Assert.Empty(points[1].Elements(SvgTestUtil.Svg + "line"));
        var legend = doc.Descendants(SvgTestUtil.Svg + "g").Single(g => (string?)g.Attribute("class") == "legend");
        Assert.Equal(["dro-v", "kto", "sft"], legend.Elements(SvgTestUtil.Svg + "text").Select(t => t.Value));
    }

    [Fact]
    public void PointGroups_ShareTheColourOfTheSeriesWithTheirName()
    {
        var plot = new SvgPlot("t", "x", "y");
        plot.Add(new PlotSeries("dro-v", [0, 1], [0, 1]));
        plot.Add(new PlotPoint("seed 1", 0.5, 0.5) { Group = "dro-v" });
        var doc = SvgTestUtil.ParseAndCheck(plot.ToSvg());
        string lineColour = (string)doc.Descendants(SvgTestUtil.Svg + "polyline").Single().Attribute("stroke")!;
        var point = doc.Descendants(SvgTestUtil.Svg + "g").Single(g => (string?)g.Attribute("class") == "point");
        Assert.Equal(lineColour, (string)point.Element(SvgTestUtil.Svg + "circle")!.Attribute("fill")!);
    }

    [Fact]
    public void Text_IsEscaped()
    {
        var plot = new SvgPlot("a < b & \"c\"", "x's", "y > 0");
        plot.Add(new PlotSeries("<script>", [0, 1], [0, 1]));
        var doc = SvgTestUtil.ParseAndCheck(plot.ToSvg());
        var texts = SvgTestUtil.Texts(doc).ToList();
        Assert.Contains("a < b & \"c\"", texts);
        Assert.Contains("<script>", texts);
        Assert.DoesNotContain(doc.Descendants(), e => e.Name.LocalName == "script");
    }

    [Fact]
    public void EmptyPlot_SaysNoData()
    {
        var doc = SvgTestUtil.ParseAndCheck(new SvgPlot("nothing", "x", "y").ToSvg());
        Assert.Contains("no data", SvgTestUtil.Texts(doc));
        var allNaN = new SvgPlot("nan", "x", "y").Add(new PlotSeries("s", [0, 1], [double.NaN, double.NaN]));
        Assert.Contains("no data", SvgTestUtil.Texts(SvgTestUtil.ParseAndCheck(allNaN.ToSvg())));
    }

    [Fact]
    public void ConstantSeries_StillGetsAnAxis()
    {
        var plot = new SvgPlot("flat", "x", "y").Add(new PlotSeries("s", [5], [2]));
        var doc = SvgTestUtil.ParseAndCheck(plot.ToSvg());
        Assert.Single(doc.Descendants(SvgTestUtil.Svg + "circle"));
    }

    [Fact]
    public void MismatchedSeries_AreRejectedWithTheirName()
    {
        var plot = new SvgPlot("t", "x", "y");
        var e = Assert.Throws<ArgumentException>(() => plot.Add(new PlotSeries("bad", [0, 1, 2], [1, 2])));
        Assert.Contains("bad", e.Message);
        Assert.Throws<ArgumentException>(() => plot.Add(new PlotSeries("band", [0, 1], [1, 2]) { Band = [0.1] }));
    }

    [Fact]
    public void Save_WritesTheFile()
    {
        using (var temp = new TempDirectory("drosharp-arena-svg-"))
        {
            string dir = temp.File("plots");
            string path = Path.Combine(dir, "plot.svg");
            var plot = LineChart();
            plot.Save(path);
            Assert.Equal(plot.ToSvg(), File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(dir)); // no temporary file left behind
        }
    }

    [Theory]
    [InlineData(0, 1, 0.2)]
    [InlineData(-0.3, 5.4, 1)]
    [InlineData(0, 400, 100)]
    [InlineData(0.47, 0.53, 0.01)]
    [InlineData(0, 7, 1)]
    [InlineData(-0.1, 5.15, 1)]
    [InlineData(0, 1e-6, 2e-7)]
    [InlineData(-3000, 120000, 20000)]
    public void AxisTicks_AreNiceAndCoverTheRange(double min, double max, double step)
    {
        var t = AxisTicks.For(min, max);
        Assert.Equal(step, t.Step, 12);
        double slack = 1e-9 * t.Step; // floor(0.47 / 0.01) · 0.01 is 0.47000000000000003
        Assert.True(t.Min <= min + slack && t.Max >= max - slack, $"[{t.Min}, {t.Max}] does not cover [{min}, {max}]");
        var values = t.Values().ToList();
        Assert.InRange(values.Count, 3, 12);
        Assert.All(values, v => Assert.Equal(Math.Round(v / t.Step), v / t.Step, 6));
    }

    [Fact]
    public void AxisTicks_FormatWithEnoughDecimals()
    {
        var quarter = AxisTicks.For(0, 1.5, 5);
        Assert.Equal(0.25, quarter.Step, 12);
        Assert.Equal("0.25", quarter.Format(0.25));
        Assert.Equal("0", AxisTicks.For(-10, 10).Format(-1e-17)); // never "-0"
        Assert.Equal("0.0", AxisTicks.For(-1, 1).Format(-1e-17));
        Assert.Equal("100", AxisTicks.For(0, 400).Format(100));
        var flat = AxisTicks.For(3, 3);
        Assert.True(flat.Min < 3 && flat.Max > 3);
    }
}
