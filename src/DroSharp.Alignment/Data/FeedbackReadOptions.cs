namespace DroSharp.Alignment.Data;

/// <summary>How to read one data file.</summary>
public sealed record FeedbackReadOptions
{
    /// <summary>The layout; <see cref="DataFileFormat.Auto"/> decides from the extension.</summary>
    public DataFileFormat Format { get; init; } = DataFileFormat.Auto;

    /// <summary>
    /// Leave bad rows out (counted, with line and reason, in <see cref="FeedbackDataset.SkippedRows"/>) instead of
    /// stopping at the first. Problems with the whole file (unreadable, no rows, unknown columns, a CSV quote that
    /// never closes, a broken JSON array) still throw.
    /// </summary>
    public bool SkipBadRows { get; init; }
}
