using System.Text.Json;
using DroSharp.Alignment.Training;

namespace DroSharp.Arena.Reports;

/// <summary>
/// What a training run directory says about itself, read for <see cref="RunReportWriter"/>: its options
/// (<c>run.json</c>), metrics (<c>metrics.jsonl</c>), warnings (<c>warnings.jsonl</c>), the schedule and
/// thresholds in force (<c>health.json</c>), which step <c>final/</c> is (<c>selection.json</c>) and the
/// held-out samples (<c>samples.jsonl</c>). Every file but run.json and metrics.jsonl is optional (older
/// runs, runs without a held-out split).
/// </summary>
public sealed class RunReport
{
    public required string Directory { get; init; }
    public required IReadOnlyDictionary<string, JsonElement> Options { get; init; }
    public required IReadOnlyList<MetricsRecord> Metrics { get; init; }
    public IReadOnlyList<RunWarning> Warnings { get; init; } = [];
    public IReadOnlyDictionary<string, JsonElement>? Health { get; init; }
    public IReadOnlyDictionary<string, JsonElement>? Selection { get; init; }
    public IReadOnlyList<HeldOutSample> Samples { get; init; } = [];

    /// <summary>The option <paramref name="key"/> of run.json as text, or null.</summary>
    public string? Option(string key) => Options.TryGetValue(key, out var v) && v.ValueKind != JsonValueKind.Null
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()
        : null;

    /// <summary>A number of health.json or selection.json, or null.</summary>
    public static double? Number(IReadOnlyDictionary<string, JsonElement>? d, string key) =>
        d is not null && d.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    /// <summary>The step final/ holds: selection.json's, else the last metrics step.</summary>
    public long? FinalStep => Number(Selection, "final_step") is double s ? (long)s : Metrics.Count > 0 ? Metrics.Max(m => m.Step) : null;

    /// <summary>Reads a run directory; a missing run.json or metrics.jsonl is a <see cref="TrainingException"/> naming it.</summary>
    public static RunReport Load(string directory)
    {
        var run = new RunDirectory(directory);
        if (!File.Exists(run.OptionsFile)) throw new TrainingException($"{directory} is not a run directory (no run.json)");
        if (!File.Exists(run.MetricsFile)) throw new TrainingException($"{directory} has no metrics.jsonl (the run has not logged a step yet)");
        return new RunReport
        {
            Directory = run.Path,
            Options = ReadObject(run.OptionsFile)!,
            Metrics = JsonlLog.ReadMetrics(run.MetricsFile),
            Warnings = ReadLines<RunWarning>(Path.Combine(run.Path, "warnings.jsonl")),
            Health = ReadObject(Path.Combine(run.Path, "health.json")),
            Selection = ReadObject(Path.Combine(run.Path, "selection.json")),
            Samples = ReadLines<HeldOutSample>(Path.Combine(run.Path, "samples.jsonl")),
        };
    }

    private static Dictionary<string, JsonElement>? ReadObject(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path))
                   ?? throw new TrainingException($"{path}: empty");
        }
        catch (JsonException e)
        {
            throw new TrainingException($"{path}: not a JSON object ({e.Message})");
        }
    }

    private static List<T> ReadLines<T>(string path)
    {
        var list = new List<T>();
        if (!File.Exists(path)) return list;
        int n = 0;
        foreach (string line in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonSerializer.Deserialize<T>(line) is { } item) list.Add(item);
            }
            catch (JsonException e)
            {
                throw new TrainingException($"{path}:{n}: {e.Message}");
            }
        }
        return list;
    }
}
