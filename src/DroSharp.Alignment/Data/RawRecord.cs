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
