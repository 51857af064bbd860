namespace DroSharp.Alignment.Data;

/// <summary>A row left out under skip-bad-rows, with why; the trainer writes these to the run.</summary>
public sealed record SkippedRow(string File, int Line, string? Field, DataErrorKind Kind, string Reason)
{
    public override string ToString() => DataFormatException.Compose(File, Line, Field, Reason);
}
