using System.Text;
using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>Per-character Unicode lowercasing (HF <c>Lowercase</c>, Rust <c>char::to_lowercase</c>).</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public string Normalize(string text)
    {
        // Rust maps U+0130 (İ) to "i\u0307"; .NET's simple case mapping gives "i" or leaves it.
        // Everything else is the same simple per-character mapping (no final-sigma context in either).
        if (!text.Contains('\u0130')) return text.ToLowerInvariant();
        var sb = new StringBuilder(text.Length + 4);
        foreach (char c in text)
        {
            if (c == '\u0130') sb.Append("i\u0307");
            else sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Lowercase");
        writer.WriteEndObject();
    }
}
