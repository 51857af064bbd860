namespace DroSharp.Alignment.Data;

/// <summary>How a data file is laid out.</summary>
public enum DataFileFormat
{
    /// <summary>From the extension: .jsonl/.ndjson/.json → <see cref="Json"/>, .csv → <see cref="Csv"/>, .tsv → <see cref="Tsv"/>.</summary>
    Auto,
    /// <summary>JSON lines (one object per line), or one JSON array of objects when the file starts with '['.</summary>
    Json,
    /// <summary>Comma-separated values with a header row, RFC 4180 quoting.</summary>
    Csv,
    /// <summary>Tab-separated values with a header row, the same quoting rules as CSV.</summary>
    Tsv,
}
