using System.Globalization;
using System.Xml.Linq;

namespace DroSharp.Arena.Tests.Reports;

internal static class SvgTestUtil
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>Parses the SVG as XML and checks the document-level promises: SVG 1.1 root, viewBox, finite coordinates.</summary>
    public static XDocument ParseAndCheck(string svg)
    {
        var doc = XDocument.Parse(svg);
        var root = doc.Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Equal("1.1", (string?)root.Attribute("version"));
        var viewBox = ((string?)root.Attribute("viewBox"))!.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(4, viewBox.Length);
        string[] numeric = ["x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height"];
        foreach (var e in root.Descendants())
        {
            foreach (string name in numeric)
                if (e.Attribute(name) is { } a)
                    Assert.True(double.TryParse(a.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v), $"{e.Name.LocalName}.{name} = '{a.Value}'");
            if (e.Attribute("points") is { } pts)
                foreach (string pair in pts.Value.Split(' '))
                    Assert.All(pair.Split(','), c => Assert.True(double.IsFinite(double.Parse(c, CultureInfo.InvariantCulture)), pts.Value));
        }
        return doc;
    }

    public static IEnumerable<string> Texts(XDocument doc) => doc.Descendants(Svg + "text").Select(t => t.Value);
}
