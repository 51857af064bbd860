using System.Text.Json;

namespace DroSharp.Models.Gguf;

/// <summary>Typed reads of optional JSON fields with errors that name the file and key.</summary>
internal static class HfJson
{
    public static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 128, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new GgufExportException(path, null, $"not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
    }

    public static bool IsAbsent(JsonElement obj, string key, out JsonElement value) =>
        !obj.TryGetProperty(key, out value) || value.ValueKind == JsonValueKind.Null;

    public static int? Int(JsonElement obj, string key, string path)
    {
        if (IsAbsent(obj, key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
            throw new GgufExportException(path, key, $"must be an integer, found {Show(v)}");
        return i;
    }

    public static int RequiredInt(JsonElement obj, string key, string path, int min = 1) =>
        Int(obj, key, path) is int i && i >= min ? i
            : throw new GgufExportException(path, key, Int(obj, key, path) is null ? "is required" : $"must be at least {min}");

    public static double? Double(JsonElement obj, string key, string path)
    {
        if (IsAbsent(obj, key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
            throw new GgufExportException(path, key, $"must be a number, found {Show(v)}");
        return d;
    }

    public static bool? Bool(JsonElement obj, string key, string path)
    {
        if (IsAbsent(obj, key, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new GgufExportException(path, key, $"must be true or false, found {Show(v)}"),
        };
    }

    public static string? String(JsonElement obj, string key, string path)
    {
        if (IsAbsent(obj, key, out var v)) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new GgufExportException(path, key, $"must be a string, found {Show(v)}");
    }

    /// <summary>An integer or a list of integers (generation_config's eos_token_id may be either).</summary>
    public static int[]? IntOrList(JsonElement obj, string key, string path)
    {
        if (IsAbsent(obj, key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number) return [Int(obj, key, path)!.Value];
        if (v.ValueKind != JsonValueKind.Array) throw new GgufExportException(path, key, $"must be an integer or a list of integers, found {Show(v)}");
        var list = new List<int>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int i))
                throw new GgufExportException(path, key, $"must be a list of integers, found element {Show(e)}");
            list.Add(i);
        }
        return list.ToArray();
    }

    public static string Show(JsonElement v)
    {
        string raw = v.GetRawText();
        return raw.Length > 60 ? raw[..60] + "…" : raw;
    }
}
