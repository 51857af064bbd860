using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DroSharp.Alignment.Data;
using DroSharp.Alignment.Training;
using DroSharp.Arena.Reports;
using DroSharp.Models;
using DroSharp.Tensors;
using DroSharp.Text;
using DroSharp.Text.Training;

namespace DroSharp.Arena.Tests.Reports;

/// <summary><c>dro report</c> on a real (tiny) run directory: a T5 with a word-level tokenizer, DRO-V on text feedback with a held-out split.</summary>
public sealed class RunReportWriterTests : IClassFixture<RunReportWriterTests.TinyRun>
{
    /// <summary>One DRO-V run shared by the tests of this class.</summary>
    public sealed class TinyRun : IDisposable
    {
        private readonly TempDirectory _temp = new("drosharp-run-report-");

        public TinyRun()
        {
            Root = _temp.Path;
            string[] colours = ["red", "green", "blue", "black"];
            var rows = new List<object>();
            for (int i = 0; i < 24; i++)
                foreach (string c in colours)
                    rows.Add(new { prompt = $"what colour is thing {i} please", completion = $"it is {c}", label = c == colours[i % 3] });
            string data = Path.Combine(Root, "feedback.jsonl");
            File.WriteAllLines(data, rows.Select(r => JsonSerializer.Serialize(r)));
            Tokenizer = TokenizerTrainer.TrainWordLevel(File.ReadLines(data).SelectMany(l =>
            {
                using var d = JsonDocument.Parse(l);
                return new[] { d.RootElement.GetProperty("prompt").GetString()!, d.RootElement.GetProperty("completion").GetString()! };
            }), vocabSize: 100, minFrequency: 1);
            string model = Path.Combine(Root, "m0");
            var (family, config) = ModelFamilies.Preset("t5-tiny");
            config.UseTokenizer(new TokenizerIds(Tokenizer.VocabSize, Tokenizer.PadId, Tokenizer.EosId, Tokenizer.BosId));
            using (var policy = family.CreatePolicy(config))
            {
                policy.InitializeWeights(new DeterministicRandom(3));
                policy.Save(model);
            }
            Tokenizer.Save(Path.Combine(model, "tokenizer.json"));
            Run = Path.Combine(Root, "run");
            var options = new TrainingOptions
            {
                Algo = "dro-v", Model = model, Data = data, Out = Run, EvalFraction = 0.25, EvalEvery = 4, EvalSamples = 8,
                BatchSize = 8, MaxSteps = 12, LearningRate = 1e-2, LogEvery = 2, SaveEvery = 0, Seed = 5,
            };
            using var trainer = new AlignmentTrainer(options, ITextEncoder.From(t => Tokenizer.EncodeIds(t)), TextWriter.Null);
            trainer.Train(resume: false, CancellationToken.None);
            Html = RunReportWriter.Render(RunReport.Load(Run), Decode);
        }

        public string Root { get; }
        public string Run { get; }
        public Tokenizer Tokenizer { get; }
        public string Html { get; }
        public string Decode(int[] ids) => Tokenizer.Decode(ids, skipSpecialTokens: true);

        public void Dispose() => _temp.Dispose();
    }

    private readonly TinyRun _run;

    public RunReportWriterTests(TinyRun run) => _run = run;

    [Fact]
    public void TheReportHasAPlotForEveryCurveOfTheRun()
    {
        var report = RunReport.Load(_run.Run);
        var ids = RunReportWriter.PanelIds(report);
        // The fixed panels a DRO-V run with a held-out split fills…
        string[] expected = ["loss", "residual", "logratio", "value", "learning-rate", "grad-norm", "accuracy", "kl", "eos", "length"];
        Assert.Equal(expected, ids.Take(expected.Length));
        // …then one per other logged metric (logps/mean, rewards/mean, tokens_per_s, clipped ratio…).
        Assert.Contains("metric-logps-mean", ids);
        Assert.Contains("metric-completions-clipped-ratio", ids);
        foreach (string id in ids) Assert.Contains($"<figure id=\"plot-{id}\">", _run.Html);

        // Every inline SVG is well-formed SVG 1.1 with finite coordinates, and draws its series.
        var svgs = Regex.Matches(_run.Html, "<svg .*?</svg>", RegexOptions.Singleline).Select(m => m.Value).ToList();
        Assert.Equal(ids.Count, svgs.Count);
        foreach (string svg in svgs)
        {
            var doc = SvgTestUtil.ParseAndCheck(svg);
            Assert.Contains(doc.Descendants(SvgTestUtil.Svg + "g"), g => (string?)g.Attribute("class") == "series");
        }
        // The loss plot holds the training and the held-out loss.
        string loss = svgs[0];
        Assert.Contains("data-name=\"loss\"", loss);
        Assert.Contains("data-name=\"held out: loss\"", loss);
        // The step final/ holds is marked on the selection metric's plot.
        var selection = JsonDocument.Parse(File.ReadAllText(Path.Combine(_run.Run, "selection.json"))).RootElement;
        Assert.Contains($"final/ = step {selection.GetProperty("final_step").GetInt64()}", svgs[ids.ToList().IndexOf("loss")]);
    }

    [Fact]
    public void TheReportShowsSamplesOfTheReferenceAndTheFinalPolicyDecoded()
    {
        var samples = File.ReadLines(Path.Combine(_run.Run, "samples.jsonl")).Select(l => JsonSerializer.Deserialize<HeldOutSample>(l)!).ToList();
        long finalStep = JsonDocument.Parse(File.ReadAllText(Path.Combine(_run.Run, "selection.json"))).RootElement.GetProperty("final_step").GetInt64();
        var reference = samples.Where(s => s.Source == HeldOutSample.Reference).OrderBy(s => s.Index).ToList();
        var final = samples.Where(s => s.Source == HeldOutSample.Policy && s.Step == finalStep).OrderBy(s => s.Index).ToList();
        Assert.Equal(6, reference.Count); // the 6 held-out prompts (a quarter of 24), fewer than --eval-samples 8
        Assert.Equal(6, final.Count);
        string table = _run.Html[_run.Html.IndexOf("<table class=\"samples\">", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("</table>", StringComparison.Ordinal)];
        var rows = Regex.Matches(table, "<tr><td>(\\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>").ToList();
        Assert.Equal(6, rows.Count);
        foreach (var row in rows)
        {
            int i = int.Parse(row.Groups[1].Value);
            Assert.Equal(WebUtility.HtmlEncode(_run.Decode(reference[i].PromptIds)), row.Groups[2].Value);
            Assert.StartsWith(WebUtility.HtmlEncode(_run.Decode(reference[i].CompletionIds)), row.Groups[3].Value);
            Assert.StartsWith(WebUtility.HtmlEncode(_run.Decode(final[i].CompletionIds)), row.Groups[4].Value);
        }
        Assert.Contains("what colour is thing", table);
        Assert.Contains($"the policy is step {finalStep}", _run.Html);
    }

    [Fact]
    public void TheReportListsTheWarningsAndIsSelfContained()
    {
        var warnings = File.ReadLines(Path.Combine(_run.Run, "warnings.jsonl")).Select(l => JsonSerializer.Deserialize<RunWarning>(l)!).ToList();
        Assert.Contains(warnings, w => w.Code == RunWarning.UntrainedPolicy); // a random-init policy was aligned
        foreach (var w in warnings) Assert.Contains(WebUtility.HtmlEncode(w.Message), _run.Html);
        Assert.StartsWith("<!DOCTYPE html>", _run.Html);
        Assert.DoesNotContain("<script", _run.Html);
        Assert.DoesNotContain("<link", _run.Html);
        Assert.DoesNotContain(" src=", _run.Html);
        // The only URL is the SVG namespace.
        Assert.All(Regex.Matches(_run.Html, "https?://[^\"]*").Select(m => m.Value), u => Assert.Equal("http://www.w3.org/2000/svg", u));
    }

    [Fact]
    public void WriteWithoutATokenizerShowsTokenIds()
    {
        string path = RunReportWriter.Write(_run.Run, decode: null, Path.Combine(_run.Root, "ids.html"));
        string html = File.ReadAllText(path);
        Assert.Contains("Token ids", html);
        Assert.Matches("<td>\\[\\d+( \\d+)*\\]", html);
    }

    [Fact]
    public void ALoadErrorNamesTheDirectory()
    {
        string empty = Path.Combine(_run.Root, "not-a-run");
        Directory.CreateDirectory(empty);
        Assert.Contains("no run.json", Assert.Throws<TrainingException>(() => RunReport.Load(empty)).Message);
    }

    /// <summary>
    /// Renders the page in headless Chromium when it is installed (Debian: apt-get install chromium) and
    /// checks the screenshot is a full page of content, not a blank or an error page: far larger, as a
    /// PNG, than the same browser's screenshot of an empty page. Skipped (passes) without Chromium.
    /// </summary>
    [Fact]
    public void RendersInHeadlessChromium()
    {
        string? chromium = new[] { "chromium", "chromium-browser", "google-chrome" }
            .Select(n => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, n)).FirstOrDefault(File.Exists))
            .FirstOrDefault(p => p is not null);
        if (chromium is null) return;
        string page = Path.Combine(_run.Root, "report.html");
        File.WriteAllText(page, _run.Html);
        string blank = Path.Combine(_run.Root, "blank.html");
        File.WriteAllText(blank, "<!DOCTYPE html><html><body></body></html>");
        long Shot(string html, string png)
        {
            string profile = Path.Combine(_run.Root, "chromium-" + Guid.NewGuid().ToString("N"));
            var psi = new ProcessStartInfo(chromium)
            {
                ArgumentList = { "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                                 "--no-first-run", $"--user-data-dir={profile}", $"--screenshot={png}", "--window-size=1400,3000", "file://" + html },
                RedirectStandardError = true, RedirectStandardOutput = true,
            };
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEndAsync();
            p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); Assert.Fail("chromium did not finish in 120 s"); }
            Assert.True(File.Exists(png), $"chromium wrote no screenshot (exit {p.ExitCode})");
            var bytes = File.ReadAllBytes(png);
            // PNG signature and the IHDR width × height.
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes.Take(4));
            int w = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
            int h = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
            Assert.Equal((1400, 3000), (w, h));
            return bytes.Length;
        }
        long report = Shot(page, Path.Combine(_run.Root, "report.png"));
        long empty = Shot(blank, Path.Combine(_run.Root, "blank.png"));
        Assert.True(report > 5 * empty, $"the report's screenshot ({report} bytes) should be far larger than a blank page's ({empty} bytes)");
    }
}
