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

    /// <summary>
    /// Deletes what a writer that died mid-write left behind: <c>checkpoints/step-N.tmp-*</c> and <c>final.tmp-*</c>
    /// directories, atomic-write temporaries (<c>.NAME.GUID.tmp</c>) and tokenizer temporaries (<c>NAME.tmpPID</c>) in the
    /// run and checkpoints directories. Call only while holding the run's <see cref="RunLock"/> (so no live writer
    /// owns them). Returns the paths removed.
    /// </summary>
    public IReadOnlyList<string> RemoveStaleTemporaries()
    {
        var removed = new List<string>();
        foreach (var dir in new[] { Path, CheckpointsDirectory }.Where(Directory.Exists))
        {
            foreach (var d in Directory.GetDirectories(dir))
            {
                string name = System.IO.Path.GetFileName(d);
                if (!name.Contains(".tmp-", StringComparison.Ordinal) || !(name.StartsWith("step-", StringComparison.Ordinal) || name.StartsWith("final", StringComparison.Ordinal))) continue;
                Directory.Delete(d, recursive: true);
                removed.Add(d);
            }
            foreach (var f in Directory.GetFiles(dir))
            {
                string name = System.IO.Path.GetFileName(f);
                if (!IsAtomicTemporary(name) && !System.Text.RegularExpressions.Regex.IsMatch(name, @"\.tmp[0-9]+$")) continue;
                File.Delete(f);
                removed.Add(f);
            }
        }
        return removed;
    }

    /// <summary><see cref="AtomicFile"/>'s temporaries: <c>.NAME.GUID.tmp</c> (32 hex digits).</summary>
    private static bool IsAtomicTemporary(string name) =>
        name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal) && name.Length > 38
        && name[^37] == '.' && name.AsSpan(name.Length - 36, 32).ContainsAnyExcept("0123456789abcdef") == false;

    /// <summary>
    /// Drops metrics lines logged after <paramref name="step"/> (a resumed run re-logs them), and with
    /// <paramref name="evaluationAtStep"/> also the evaluation line at <paramref name="step"/>: the last checkpoint is
    /// written after the final evaluation, so a run stopped between it and <c>final/</c> evaluates again.
    /// </summary>
    public void TruncateMetricsAfter(long step, bool evaluationAtStep = false)
    {
        if (!File.Exists(MetricsFile)) return;
        var kept = new StringBuilder();
        var lines = File.ReadAllLines(MetricsFile);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            System.Text.Json.JsonDocument doc;
            try { doc = System.Text.Json.JsonDocument.Parse(line); }
            catch (System.Text.Json.JsonException) when (i == lines.Length - 1) { continue; } // torn by a crash mid-write: a resumed run logs it again
            catch (System.Text.Json.JsonException e) { throw new TrainingException($"{MetricsFile}:{i + 1}: not a JSON line ({e.Message})", e); }
            using (doc)
                if (doc.RootElement.TryGetProperty("step", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.Number
                    && (s.GetInt64() > step || (evaluationAtStep && s.GetInt64() == step && doc.RootElement.TryGetProperty("eval_loss", out _)))) continue;
            kept.Append(line).Append('\n');
        }
        WriteTextAtomic(MetricsFile, kept.ToString());
    }
}
