using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>A row of a JSON-lines or JSON-array file: the object's own keys.</summary>
internal sealed class JsonRawRecord(string file, int line, JsonElement obj) : RawRecord(file, line)
{
    public JsonElement Object { get; } = obj;

    public override bool Has(string name) => Object.TryGetProperty(name, out _);

    public override IEnumerable<string> Names => Object.EnumerateObject().Select(p => p.Name);

    public JsonElement Get(string name) => Object.GetProperty(name);
}
