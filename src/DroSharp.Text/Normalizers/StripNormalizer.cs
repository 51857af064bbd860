using System.Text.Json;

namespace DroSharp.Text.Normalizers;

/// <summary>Removes whitespace (Unicode White_Space) on the left and/or right (HF <c>Strip</c>).</summary>
internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public bool Left { get; } = left;
    public bool Right { get; } = right;

    public string Normalize(string text)
    {
        if (Left && Right) return text.Trim();
        if (Left) return text.TrimStart();
        return Right ? text.TrimEnd() : text;
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Strip");
        writer.WriteBoolean("strip_left", Left);
        writer.WriteBoolean("strip_right", Right);
        writer.WriteEndObject();
    }
}
