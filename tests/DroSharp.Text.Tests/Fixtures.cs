using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DroSharp.Text.Tests;

/// <summary>Loads the fixture tokenizers once per test run and reads the expectation files.</summary>
internal static class Fixtures
{
    private static readonly ConcurrentDictionary<string, Tokenizer> Cache = new();

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static string TokenizerFile(string name) =>
        File.Exists(PathOf($"{name}.tokenizer.json")) ? PathOf($"{name}.tokenizer.json") : PathOf($"{name}.tokenizer.json.gz");

    public static Tokenizer Load(string name) => Cache.GetOrAdd(name, n => Tokenizer.FromFile(TokenizerFile(n)));

    public static string ReadText(string path)
    {
        if (!path.EndsWith(".gz")) return File.ReadAllText(path);
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        return reader.ReadToEnd();
    }

    /// <summary>JSON lines; split on '\n' only, since texts may hold U+2028 and similar separators.</summary>
    public static IReadOnlyList<JsonElement> Lines(string file) => LineCache.GetOrAdd(file, f =>
        File.ReadAllText(PathOf(f)).Split('\n')
            .Where(line => line.Trim().Length > 0)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToArray());

    private static readonly ConcurrentDictionary<string, JsonElement[]> LineCache = new();

    public static int[] Ints(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();

    /// <summary>A fixture tokenizer with the top-level components and model fields a variant in variants.json replaces.</summary>
    public static Tokenizer Variant(string name) => Cache.GetOrAdd("variant:" + name, _ =>
    {
        var variants = JsonNode.Parse(File.ReadAllText(PathOf("variants.json")))!.AsObject();
        var v = variants[name]!.AsObject();
        var root = JsonNode.Parse(ReadText(TokenizerFile(v["base"]!.GetValue<string>())))!.AsObject();
        var baseRoot = root.DeepClone().AsObject();
        if (v["set"] is JsonObject set)
            foreach (var (k, val) in set) root[k] = Resolve(val, baseRoot);
        if (v["model"] is JsonObject model)
            foreach (var (k, val) in model) root["model"]![k] = val?.DeepClone();
        if (v["append_unigram_vocab"] is JsonArray extra)
            foreach (var item in extra) root["model"]!["vocab"]!.AsArray().Add(item?.DeepClone());
        return Tokenizer.FromJson(root.ToJsonString());
    });

    private static JsonNode? Resolve(JsonNode? node, JsonObject baseRoot) => node switch
    {
        JsonValue s when s.TryGetValue(out string? str) && str == "$base:normalizer" => baseRoot["normalizer"]!.DeepClone(),
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key, Resolve(kv.Value, baseRoot)))),
        JsonArray a => new JsonArray(a.Select(x => Resolve(x, baseRoot)).ToArray()),
        _ => node?.DeepClone(),
    };
}
