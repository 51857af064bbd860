using System.Text.Json;

namespace DroSharp.Text;

/// <summary>The special tokens a <c>tokenizer_config.json</c> names (<c>pad_token</c>, <c>eos_token</c>, …).</summary>
internal sealed record SpecialTokenNames(string? Pad, string? Eos, string? Bos, string? Unk)
{
    /// <summary>Reads the names; each is a string or an object with <c>content</c>. A missing file field stays null.</summary>
    public static SpecialTokenNames FromConfig(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (JsonStrings.FindInvalid(root) is { } bad) throw new FormatException($"{path}: {bad} holds an escaped lone surrogate (\\uD800–\\uDFFF), which is not valid Unicode text");
            return new SpecialTokenNames(Name(root, "pad_token"), Name(root, "eos_token"), Name(root, "bos_token"), Name(root, "unk_token"));
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    private static string? Name(JsonElement root, string field)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(field, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }
}
