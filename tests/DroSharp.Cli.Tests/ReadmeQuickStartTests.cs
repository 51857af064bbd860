using System.Text.Json;

namespace DroSharp.Cli.Tests;

/// <summary>
/// The README's quick start, command for command as written (the <c>dro</c> shell function replaced by
/// an in-process run), on a generated feedback log: SFT first, then DRO-V, then generate and score.
/// </summary>
public sealed class ReadmeQuickStartTests : IDisposable
{
    private readonly TempDirectory _temp = new("drosharp-cli-");
    private readonly string _dir;

    public ReadmeQuickStartTests() => _dir = _temp.Path;

    public void Dispose() => _temp.Dispose();

    private static string Readme()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "DroSharp.slnx"))) return Path.Combine(d.FullName, "README.md");
        throw new FileNotFoundException("README.md (no DroSharp.slnx above the test binaries)");
    }

    /// <summary>The dro commands of the first sh block after the "Quick start" heading, as argument lists.</summary>
    internal static List<string[]> QuickStartCommands(string readme)
    {
        var lines = File.ReadAllLines(readme);
        int heading = Array.FindIndex(lines, l => l.StartsWith("## Quick start", StringComparison.Ordinal));
        Assert.True(heading >= 0, "README has no '## Quick start' section");
        int start = Array.FindIndex(lines, heading, l => l.Trim() == "```sh") + 1;
        int end = Array.FindIndex(lines, start, l => l.Trim() == "```");
        return lines[start..end].Select(l => l.Trim())
            .Where(l => l.StartsWith("dro ", StringComparison.Ordinal))
            .Select(l => l[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
    }

    [Fact]
    public void TheQuickStartWorksAsWritten()
    {
        var commands = QuickStartCommands(Readme());
        Assert.Equal(["tokenizer", "init", "train", "train", "generate", "score"], commands.Select(c => c[0]));

        // A feedback log: 48 prompts, 4 logged responses each, the right colour got the thumbs up.
        string[] colours = ["red", "green", "blue", "yellow", "black", "white"];
        var rng = new Random(7);
        using (var w = new StreamWriter(Path.Combine(_dir, "feedback.jsonl")))
            for (int i = 0; i < 48; i++)
            {
                string right = colours[i % 3];
                foreach (string c in colours.OrderBy(_ => rng.Next()).Take(3).Append(right).Distinct())
                    w.WriteLine(JsonSerializer.Serialize(new { prompt = $"what colour is thing {i} please", completion = $"it is {c}", label = c == right }));
            }
        using (var w = new StreamWriter(Path.Combine(_dir, "prompts.jsonl")))
            for (int i = 0; i < 5; i++) w.WriteLine(JsonSerializer.Serialize(new { prompt = $"what colour is thing {i} please" }));

        string cwd = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _dir;
        try
        {
            foreach (var args in commands) CliRunner.Ok(args);
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }

        string sft = Path.Combine(_dir, "runs", "sft"), dro = Path.Combine(_dir, "runs", "dro1");
        Assert.True(File.Exists(Path.Combine(sft, "final", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dro, "final", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dro, "report.html")));
        Assert.Equal(5, File.ReadLines(Path.Combine(_dir, "answers.jsonl")).Count());
        Assert.Equal(File.ReadLines(Path.Combine(_dir, "feedback.jsonl")).Count(), File.ReadLines(Path.Combine(_dir, "scores.jsonl")).Count());

        // After SFT the DRO run starts from a trained model, with a warmup that fits the run: those warnings stay silent.
        string warnings = Path.Combine(dro, "warnings.jsonl");
        string fired = File.Exists(warnings) ? File.ReadAllText(warnings) : "";
        Assert.DoesNotContain("untrained_policy", fired);
        Assert.DoesNotContain("warmup_too_long", fired);
        // The step final/ holds fits the held-out feedback better than π_ref (step 0) does.
        using var selection = JsonDocument.Parse(File.ReadAllText(Path.Combine(dro, "selection.json")));
        var sel = selection.RootElement;
        Assert.Equal("eval_loss", sel.GetProperty("select_by").GetString());
        Assert.True(sel.GetProperty("best_value").GetDouble() < sel.GetProperty("reference_value").GetDouble(), sel.ToString());
    }
}
