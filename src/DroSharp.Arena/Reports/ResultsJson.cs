using DroSharp.Models.Checkpoints;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DroSharp.Arena.Reports;

/// <summary>
/// <c>results.json</c>: <see cref="ArenaResults"/> in snake_case JSON, indented, nulls left out, NaN and
/// ±Infinity written as the strings "NaN", "Infinity", "-Infinity" (a diverged run is reported, not hidden).
/// Dictionary keys (settings) are written as given.
/// </summary>
public static class ResultsJson
{
    public const string FileName = "results.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static string Serialize(ArenaResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        Validate(results, "results");
        return JsonSerializer.Serialize(results, Options) + "\n";
    }

    /// <summary>Parses results; <paramref name="source"/> names the input in error messages.</summary>
    public static ArenaResults Deserialize(string json, string source = "results.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        ArenaResults? results;
        try
        {
            results = JsonSerializer.Deserialize<ArenaResults>(json, Options);
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? -1) + 1, column = (e.BytePositionInLine ?? -1) + 1;
            throw new FormatException($"{source}: line {line}, byte {column}, at '{e.Path ?? "$"}': {e.Message}", e);
        }
        if (results is null) throw new FormatException($"{source}: the document is null");
        Validate(results, source);
        return results;
    }

    public static void Write(string path, ArenaResults results) => AtomicFile.WriteAllText(path, Serialize(results));

    public static ArenaResults Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Deserialize(File.ReadAllText(path), path);
    }

    private static void Validate(ArenaResults results, string source)
    {
        if (string.IsNullOrWhiteSpace(results.Task)) throw new FormatException($"{source}: field 'task' is missing or empty");
        if (results.Settings is null) throw new FormatException($"{source}: field 'settings' is null");
        if (results.References is null) throw new FormatException($"{source}: field 'references' is null");
        if (results.Algorithms is null) throw new FormatException($"{source}: field 'algorithms' is null");
        if (results.Samples is null) throw new FormatException($"{source}: field 'samples' is null");
        if (results.HeadToHead is null) throw new FormatException($"{source}: field 'head_to_head' is null");
        if (results.StrengthChoices is null || results.StrengthChoices.Any(c => c is null || c.Candidates is null)) throw new FormatException($"{source}: field 'strength_choices' is null or holds null");
        if (results.Optimum is null || results.Optimum.Any(o => o is null)) throw new FormatException($"{source}: field 'optimum' is null or holds null");
        for (int i = 0; i < results.HeadToHead.Count; i++)
        {
            var h = results.HeadToHead[i];
            if (h is null || string.IsNullOrWhiteSpace(h.A) || string.IsNullOrWhiteSpace(h.B)) throw new FormatException($"{source}: head_to_head[{i}] needs 'a' and 'b'");
            if (h.Seeds is null || h.Seeds.Any(s => s is null)) throw new FormatException($"{source}: head_to_head[{i}] ('{h.A}' vs '{h.B}'): field 'seeds' is null or holds null");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int a = 0; a < results.Algorithms.Count; a++)
        {
            var alg = results.Algorithms[a];
            string where = $"{source}: algorithms[{a}]";
            if (alg is null) throw new FormatException($"{where} is null");
            if (string.IsNullOrWhiteSpace(alg.Name)) throw new FormatException($"{where}: field 'name' is missing or empty");
            if (!names.Add(alg.Name)) throw new FormatException($"{where}: algorithm '{alg.Name}' appears twice");
            if (alg.Seeds is null) throw new FormatException($"{where} ('{alg.Name}'): field 'seeds' is null");
            if (alg.Failures is null || alg.Failures.Any(d => d is null)) throw new FormatException($"{where} ('{alg.Name}'): field 'failures' is null or holds null");
            if (alg.Selection is { } sel && (sel.Grid is null || sel.Grid.Any(g => g is null))) throw new FormatException($"{where} ('{alg.Name}'): selection.grid is null or holds null");
            for (int s = 0; s < alg.Seeds.Count; s++)
            {
                var seed = alg.Seeds[s];
                if (seed is null) throw new FormatException($"{where} ('{alg.Name}'): seeds[{s}] is null");
                if (seed.Final is null) throw new FormatException($"{where} ('{alg.Name}'): seeds[{s}]: field 'final' is null");
                if (seed.Curve is null) throw new FormatException($"{where} ('{alg.Name}'): seeds[{s}]: field 'curve' is null");
                if (seed.Curve.Any(p => p is null)) throw new FormatException($"{where} ('{alg.Name}'): seeds[{s}]: a curve point is null");
            }
        }
        for (int i = 0; i < results.References.Count; i++)
            if (results.References[i] is null || string.IsNullOrWhiteSpace(results.References[i].Name))
                throw new FormatException($"{source}: references[{i}] has no name");
        for (int i = 0; i < results.Samples.Count; i++)
            if (results.Samples[i] is null) throw new FormatException($"{source}: samples[{i}] is null");
    }
}
