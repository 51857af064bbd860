using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The run's step-keyed JSONL files (<c>metrics.jsonl</c>, <c>warnings.jsonl</c>, <c>samples.jsonl</c>):
/// every line is a JSON object with a <c>step</c>. A resumed run drops the lines after its checkpoint's
/// step and writes them again, so each file reads as if the run had never stopped.
/// </summary>
public static class JsonlLog
{
    /// <summary>Reads metrics.jsonl: numbers as numbers, the strings "NaN", "Infinity", "-Infinity" as those values; other fields are skipped.</summary>
    public static List<MetricsRecord> ReadMetrics(string path)
    {
        var list = new List<MetricsRecord>();
        if (!File.Exists(path)) return list;
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new TrainingException($"{path}:{lineNo}: not a JSON object ({e.Message})"); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("step", out var s) || !s.TryGetInt64(out long step))
                    throw new TrainingException($"{path}:{lineNo}: a metrics line needs an integer 'step'");
                var values = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Name == "step") continue;
                    if (p.Value.ValueKind == JsonValueKind.Number) values[p.Name] = p.Value.GetDouble();
                    else if (p.Value.ValueKind == JsonValueKind.String
                             && double.TryParse(p.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && !double.IsFinite(x))
                        values[p.Name] = x;
                }
                list.Add(new MetricsRecord(step, values));
            }
        }
        return list;
    }

    /// <summary>Drops the lines whose step is after <paramref name="step"/> (all-or-nothing rewrite).</summary>
    public static void TruncateAfter(string path, long step)
    {
        if (!File.Exists(path)) return;
        var kept = new StringBuilder();
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out long n) && n > step) continue;
            }
            catch (JsonException)
            {
                continue; // a line cut short by a crash
            }
            kept.Append(line).Append('\n');
        }
        RunDirectory.WriteTextAtomic(path, kept.ToString());
    }

    // Readable text (π, τ, −) rather than \u escapes; the files are never embedded in HTML unescaped.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Appends one JSON line and flushes it.</summary>
    public static void Append(string path, object line)
    {
        using var w = new StreamWriter(path, append: true);
        w.WriteLine(JsonSerializer.Serialize(line, line.GetType(), Readable));
    }
}
