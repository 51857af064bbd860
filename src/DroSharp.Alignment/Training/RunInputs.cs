using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using DroSharp.Models.Checkpoints;

namespace DroSharp.Alignment.Training;

/// <summary>
/// What a run was trained on, <c>RUN/inputs.json</c>: the absolute path and a content hash of the policy and
/// reference model directories (<see cref="ModelDirectoryHash"/>: config and weights) and of the data files (SHA-256
/// of the bytes). Written when a run starts; checked when it resumes, so a resume from another directory, or after
/// a data file was edited or a model retrained, is refused instead of silently training on other inputs. An explicit
/// override (<c>--allow-changed-inputs</c>) is appended to the file's <c>overrides</c> with what changed.
/// </summary>
public static class RunInputs
{
    public const string FileName = "inputs.json";

    /// <summary>One input: its role (model, ref, data, eval_data), absolute path and content hash.</summary>
    public sealed record Fingerprint(string Role, string Path, string Sha256);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The options with every input and output path made absolute (against the current directory), as run.json stores them.</summary>
    public static TrainingOptions Absolute(TrainingOptions o) => o with
    {
        Model = Full(o.Model)!,
        Ref = Full(o.Ref),
        Data = Full(o.Data)!,
        EvalData = Full(o.EvalData),
        Out = Full(o.Out)!,
    };

    private static string? Full(string? path) => string.IsNullOrWhiteSpace(path) ? path : System.IO.Path.GetFullPath(path);

    /// <summary>Hashes the inputs of <paramref name="o"/> as they are now.</summary>
    public static IReadOnlyList<Fingerprint> Compute(TrainingOptions o)
    {
        foreach (var (option, path) in new[] { ("--data", o.Data), ("--eval-data", o.EvalData) })
        {
            if (path is null) continue;
            if (Directory.Exists(path)) throw new TrainingException($"{option} {path} is a directory; give a JSONL, JSON, CSV or TSV file");
            Data.FeedbackFileReader.ResolveFormat(path, Data.DataFileFormat.Auto); // before hashing: /dev/stdin would be read to its end
        }
        var list = new List<Fingerprint> { new("model", Full(o.Model)!, ModelHash("--model", o.Model)) };
        if (o.Ref is not null) list.Add(new("ref", Full(o.Ref)!, ModelHash("--ref", o.Ref)));
        list.Add(new("data", Full(o.Data)!, FileHash(o.Data)));
        if (o.EvalData is not null) list.Add(new("eval_data", Full(o.EvalData)!, FileHash(o.EvalData)));
        return list;
    }

    /// <summary>The model directory's content hash; a directory that is not a model (missing, a file, an adapter) is a training error naming the option.</summary>
    private static string ModelHash(string option, string directory)
    {
        try { return ModelDirectoryHash.Compute(directory); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new TrainingException($"{option}: {e.Message}", e); }
    }

    /// <summary>SHA-256 (hex) of a file's bytes.</summary>
    public static string FileHash(string path)
    {
        if (!File.Exists(path)) throw new TrainingException($"{path}: the file does not exist");
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    /// <summary>Writes RUN/inputs.json for a run that starts now.</summary>
    public static void Record(RunDirectory run, IReadOnlyList<Fingerprint> inputs)
    {
        var root = new JsonObject { ["inputs"] = JsonSerializer.SerializeToNode(inputs.Select(ToJson).ToList()) };
        RunDirectory.WriteTextAtomic(System.IO.Path.Combine(run.Path, FileName), root.ToJsonString(Indented) + "\n");
    }

    private static Dictionary<string, string> ToJson(Fingerprint f) => new() { ["role"] = f.Role, ["path"] = f.Path, ["sha256"] = f.Sha256 };

    /// <summary>
    /// Compares the recorded inputs with <paramref name="current"/>. A difference throws <see cref="TrainingException"/>
    /// listing each, unless <paramref name="allowChanged"/>: then it is logged as a warning and, when
    /// <paramref name="write"/>, appended to the file's overrides. Returns the differences (empty when none).
    /// A run from before inputs.json existed cannot be checked: a warning says so.
    /// </summary>
    public static IReadOnlyList<string> Verify(RunDirectory run, IReadOnlyList<Fingerprint> current, bool allowChanged, bool write, TextWriter log)
    {
        string file = System.IO.Path.Combine(run.Path, FileName);
        if (!File.Exists(file))
        {
            log.WriteLine($"warning: {run.Path} has no {FileName} (it was started by an older dro): its model and data cannot be checked before resuming");
            return [];
        }
        JsonObject root;
        List<Fingerprint> recorded;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            recorded = root["inputs"]!.AsArray().Select(n => new Fingerprint((string)n!["role"]!, (string)n["path"]!, (string)n["sha256"]!)).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new TrainingException($"{file}: not a valid inputs record ({e.Message}); restore it, or start a new run");
        }

        var changes = new List<string>();
        foreach (var now in current)
        {
            var then = recorded.FirstOrDefault(r => r.Role == now.Role);
            string what = now.Role == "eval_data" ? "eval data" : now.Role == "ref" ? "reference model" : now.Role;
            if (then is null) changes.Add($"the {what} {now.Path} was not an input when the run started");
            else if (then.Path != now.Path) changes.Add($"the {what} was {then.Path}, now {now.Path}");
            else if (then.Sha256 != now.Sha256) changes.Add($"the {what} {now.Path} changed since the run started (sha256 {then.Sha256[..12]}…, now {now.Sha256[..12]}…)");
        }
        foreach (var then in recorded.Where(r => current.All(c => c.Role != r.Role)))
            changes.Add($"the {then.Role} {then.Path} is no longer an input");
        if (changes.Count == 0) return changes;

        if (!allowChanged)
            throw new TrainingException($"cannot resume {run.Path}: {string.Join("; ", changes)}. Resuming would train on other inputs than the " +
                                        "checkpoints were made from; restore them, or give --allow-changed-inputs to continue anyway (it is recorded in the run)");
        foreach (var c in changes) log.WriteLine($"warning: resuming with changed inputs (--allow-changed-inputs): {c}");
        if (write)
        {
            var overrides = root["overrides"] as JsonArray ?? [];
            overrides.Add(new JsonObject
            {
                ["time"] = DateTime.UtcNow.ToString("o"),
                ["changes"] = new JsonArray(changes.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                ["inputs"] = JsonSerializer.SerializeToNode(current.Select(ToJson).ToList()),
            });
            root["overrides"] = overrides;
            RunDirectory.WriteTextAtomic(file, root.ToJsonString(Indented) + "\n");
        }
        return changes;
    }
}
