namespace DroSharp.Alignment.Data;

/// <summary>The prompts of a file read with <see cref="FeedbackFileReader.ReadPrompts"/> (e.g. for generation).</summary>
public sealed class PromptFile(string file, DataFileFormat format, IReadOnlyList<PromptRow> prompts, int rowsRead, IReadOnlyList<SkippedRow> skippedRows)
{
    public string File { get; } = file;

    public DataFileFormat Format { get; } = format;

    public IReadOnlyList<PromptRow> Prompts { get; } = prompts;

    /// <summary>Non-blank rows in the file, good or bad.</summary>
    public int RowsRead { get; } = rowsRead;

    public IReadOnlyList<SkippedRow> SkippedRows { get; } = skippedRows;
}
