using System.Text.Json;

namespace DroSharp.Alignment.Data;

/// <summary>
/// One row before validation: named fields holding either JSON values (JSON lines/array) or CSV cells
/// (always text). <see cref="RowParser"/> turns it into typed values or a located error.
/// </summary>
internal abstract class RawRecord(string file, int line)
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public abstract bool Has(string name);

    public abstract IEnumerable<string> Names { get; }

    public DataFormatException Error(string? field, DataErrorKind kind, string reason) => new(File, Line, field, kind, reason);
}

internal sealed class JsonRawRecord(string file, int line, JsonElement obj) : RawRecord(file, line)
{
    public JsonElement Object { get; } = obj;

    public override bool Has(string name) => Object.TryGetProperty(name, out _);

    public override IEnumerable<string> Names => Object.EnumerateObject().Select(p => p.Name);

    public JsonElement Get(string name) => Object.GetProperty(name);
}

internal sealed class CsvRawRecord(string file, int line, Dictionary<string, int> header, string[] cells) : RawRecord(file, line)
{
    public override bool Has(string name) => header.ContainsKey(name);

    public override IEnumerable<string> Names => header.Keys;

    public string Get(string name) => cells[header[name]];
}
