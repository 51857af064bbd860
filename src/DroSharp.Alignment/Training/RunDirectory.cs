using System.Globalization;
using System.Text;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The layout of a run: <c>run.json</c> (every resolved option), <c>metrics.jsonl</c> (one line per
/// logging or evaluation step), <c>data_report.json</c>, <c>reference_logprobs.safetensors</c>,
/// <c>checkpoints/step-N/</c> and <c>final/</c> (an HF model directory, the value model in <c>final/value/</c>).
/// </summary>
public sealed class RunDirectory
{
    public RunDirectory(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }
    public string OptionsFile => Combine("run.json");
    public string MetricsFile => Combine("metrics.jsonl");
    public string DataReportFile => Combine("data_report.json");
    public string ReferenceCacheFile => Combine("reference_logprobs.safetensors");
    public string CheckpointsDirectory => Combine("checkpoints");
    public string FinalDirectory => Combine("final");

    public string CheckpointDirectory(long step) => System.IO.Path.Combine(CheckpointsDirectory, $"step-{step}");

    private string Combine(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Complete checkpoints (those with a trainer state file), by step.</summary>
    public IReadOnlyList<(long Step, string Directory)> Checkpoints()
    {
        var list = new List<(long, string)>();
        if (!Directory.Exists(CheckpointsDirectory)) return list;
        foreach (var dir in Directory.GetDirectories(CheckpointsDirectory))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (!name.StartsWith("step-", StringComparison.Ordinal)) continue;
            if (!long.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out long step)) continue;
            if (!File.Exists(System.IO.Path.Combine(dir, TrainingCheckpoint.StateFileName))) continue;
            list.Add((step, dir));
        }
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    /// <summary>Writes text all-or-nothing (temporary file, flushed, renamed over the target).</summary>
    public static void WriteTextAtomic(string path, string text) => AtomicFile.WriteAllText(path, text);

    /// <summary>Drops metrics lines logged after <paramref name="step"/> (a resumed run re-logs them).</summary>
    public void TruncateMetricsAfter(long step)
    {
        if (!File.Exists(MetricsFile)) return;
        var kept = new StringBuilder();
        foreach (var line in File.ReadLines(MetricsFile))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty("step", out var s) && s.GetInt64() > step) continue;
            kept.Append(line).Append('\n');
        }
        WriteTextAtomic(MetricsFile, kept.ToString());
    }
}
