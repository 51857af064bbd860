using System.Runtime.InteropServices;
using System.Text.Json;

namespace DroSharp.Text;

/// <summary>
/// System.Text.Json accepts an escaped lone surrogate (<c>"\uD800"</c>) when it parses a document and throws
/// <see cref="InvalidOperationException"/> only when the string is read. Files from users are checked once after
/// parsing, so the readers can report a format error naming the place instead of crashing later.
/// </summary>
public static class JsonStrings
{
    /// <summary>The JSON path (e.g. <c>$.model.vocab</c>) of the first string or property name that is not valid Unicode, or null.</summary>
    public static string? FindInvalid(JsonElement root) => Find(root, "$");

    private static string? Find(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(JsonMarshal.GetRawUtf8Value(e), () => e.GetString()) ? null : path;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (Find(item, $"{path}[{i}]") is { } bad) return bad;
                    i++;
                }
                return null;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    if (!Readable(JsonMarshal.GetRawUtf8PropertyName(p), () => p.Name)) return $"{path} (a key)";
                    if (Find(p.Value, $"{path}.{p.Name}") is { } bad) return bad;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>Only escaped text can hold a lone surrogate (raw UTF-8 was validated by the parser): read it to find out.</summary>
    private static bool Readable(ReadOnlySpan<byte> raw, Func<string?> read)
    {
        if (raw.IndexOf("\\u"u8) < 0) return true;
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
