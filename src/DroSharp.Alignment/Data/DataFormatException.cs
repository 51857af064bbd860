namespace DroSharp.Alignment.Data;

/// <summary>
/// Bad input data. The message reads <c>file:line: field 'name': reason</c>, so an editor can jump to it;
/// <see cref="Line"/> is the 1-based physical line (for CSV, the line where the record starts), or null when
/// the problem concerns the whole file.
/// </summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string file, int? line, string? field, DataErrorKind kind, string reason)
        : base(Compose(file, line, field, reason))
    {
        File = file;
        Line = line;
        Field = field;
        Kind = kind;
        Reason = reason;
    }

    /// <summary>The file as the user named it.</summary>
    public string File { get; }

    /// <summary>1-based physical line, or null for a whole-file problem.</summary>
    public int? Line { get; }

    /// <summary>The column/key at fault, or null when no single field is.</summary>
    public string? Field { get; }

    public DataErrorKind Kind { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Reason { get; }

    internal static string Compose(string file, int? line, string? field, string reason)
    {
        string where = line is int l ? $"{file}:{l}" : file;
        return field is null ? $"{where}: {reason}" : $"{where}: field '{field}': {reason}";
    }
}
