using System.Text.Json;

namespace DroSharp.Text.Serialization;

/// <summary>Typed field access on tokenizer.json objects with errors that name the field's path.</summary>
internal static class JsonFields
{
    public static JsonElement? Get(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string Type(JsonElement obj, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object) throw new FormatException($"{path}: expected an object, found {obj.ValueKind}");
        return String(obj, "type", path);
    }

    public static string String(JsonElement obj, string name, string path) =>
        OptionalString(obj, name, path) ?? throw new FormatException($"{path}.{name}: missing");

    public static string? OptionalString(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.String) throw new FormatException($"{path}.{name}: expected a string, found {v.Value.ValueKind}");
        return v.Value.GetString();
    }

    public static bool Bool(JsonElement obj, string name, string path, bool fallback)
    {
        var v = Get(obj, name);
        if (v is null) return fallback;
        return v.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException($"{path}.{name}: expected true or false, found {v.Value.ValueKind}"),
        };
    }

    public static bool? OptionalBool(JsonElement obj, string name, string path) =>
        Get(obj, name) is null ? null : Bool(obj, name, path, false);

    public static int Int(JsonElement obj, string name, string path, int? fallback = null)
    {
        var v = Get(obj, name);
        if (v is null) return fallback ?? throw new FormatException($"{path}.{name}: missing");
        if (v.Value.ValueKind != JsonValueKind.Number || !v.Value.TryGetInt32(out int i))
            throw new FormatException($"{path}.{name}: expected an integer, found {v.Value}");
        return i;
    }

    public static int? OptionalInt(JsonElement obj, string name, string path) =>
        Get(obj, name) is null ? null : Int(obj, name, path);

    public static double? OptionalDouble(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Number) throw new FormatException($"{path}.{name}: expected a number, found {v.Value.ValueKind}");
        return v.Value.GetDouble();
    }

    public static char Char(JsonElement obj, string name, string path)
    {
        string s = String(obj, name, path);
        if (s.Length != 1) throw new FormatException($"{path}.{name}: expected a single BMP character, found \"{s}\"");
        return s[0];
    }

    public static JsonElement Array(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name) ?? throw new FormatException($"{path}.{name}: missing");
        if (v.ValueKind != JsonValueKind.Array) throw new FormatException($"{path}.{name}: expected an array, found {v.ValueKind}");
        return v;
    }

    public static JsonElement Object(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name) ?? throw new FormatException($"{path}.{name}: missing");
        if (v.ValueKind != JsonValueKind.Object) throw new FormatException($"{path}.{name}: expected an object, found {v.ValueKind}");
        return v;
    }
}
