namespace DroSharp.Alignment.Data;

/// <summary>A CSV/TSV record: the header's columns, every value a text cell.</summary>
internal sealed class CsvRawRecord(string file, int line, Dictionary<string, int> header, string[] cells) : RawRecord(file, line)
{
    public override bool Has(string name) => header.ContainsKey(name);

    public override IEnumerable<string> Names => header.Keys;

    public string Get(string name) => cells[header[name]];
}
