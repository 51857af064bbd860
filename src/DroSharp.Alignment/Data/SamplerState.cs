using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// Where an <see cref="EpochSampler"/> stands, enough to continue exactly: the epoch, the position in that
/// epoch's permutation, and the generator's state from which the permutation was drawn (the permutation itself
/// is redrawn on restore). Serialises to JSON with the generator words as hex strings, so no reader rounds them.
/// </summary>
public sealed record SamplerState(int Count, int BatchSize, bool Shuffle, bool DropLast, int Epoch, int Position, ulong[] EpochRngState)
{
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("count", Count);
            w.WriteNumber("batch_size", BatchSize);
            w.WriteBoolean("shuffle", Shuffle);
            w.WriteBoolean("drop_last", DropLast);
            w.WriteNumber("epoch", Epoch);
            w.WriteNumber("position", Position);
            w.WriteStartArray("epoch_rng_state");
            foreach (ulong s in EpochRngState) w.WriteStringValue(s.ToString("x16", CultureInfo.InvariantCulture));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static SamplerState FromJson(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            var rng = r.GetProperty("epoch_rng_state").EnumerateArray()
                .Select(e => ulong.Parse(e.GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture))
                .ToArray();
            return new SamplerState(
                r.GetProperty("count").GetInt32(),
                r.GetProperty("batch_size").GetInt32(),
                r.GetProperty("shuffle").GetBoolean(),
                r.GetProperty("drop_last").GetBoolean(),
                r.GetProperty("epoch").GetInt32(),
                r.GetProperty("position").GetInt32(),
                rng);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new FormatException("the saved data-sampler position is damaged: " + e.Message, e);
        }
    }
}
