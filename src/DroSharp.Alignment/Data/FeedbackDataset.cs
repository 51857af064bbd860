namespace DroSharp.Alignment.Data;

/// <summary>
/// The validated rows of one data file. Unpaired kinds fill <see cref="Examples"/>; preference pairs fill
/// <see cref="Pairs"/>. Rows left out under skip-bad-rows are in <see cref="SkippedRows"/>.
/// </summary>
public sealed class FeedbackDataset
{
    public FeedbackDataset(
        string file,
        DataFileFormat format,
        DatasetKind kind,
        IReadOnlyList<FeedbackExample> examples,
        IReadOnlyList<PreferencePair> pairs,
        int rowsRead,
        IReadOnlyList<SkippedRow> skippedRows,
        IReadOnlyList<string> warnings,
        DatasetKind? convertedFrom = null)
    {
        if (kind == DatasetKind.PreferencePairs ? examples.Count != 0 : pairs.Count != 0)
            throw new ArgumentException($"a {kind} dataset holds {(kind == DatasetKind.PreferencePairs ? "pairs" : "examples")} only");
        File = file;
        Format = format;
        Kind = kind;
        Examples = examples;
        Pairs = pairs;
        RowsRead = rowsRead;
        SkippedRows = skippedRows;
        Warnings = warnings;
        ConvertedFrom = convertedFrom;
    }

    public string File { get; }

    /// <summary>The resolved layout (never <see cref="DataFileFormat.Auto"/> for a file that was read).</summary>
    public DataFileFormat Format { get; }

    public DatasetKind Kind { get; }

    /// <summary>When the rows were converted (pairs split for unpaired methods), the kind the file held.</summary>
    public DatasetKind? ConvertedFrom { get; }

    public IReadOnlyList<FeedbackExample> Examples { get; }

    public IReadOnlyList<PreferencePair> Pairs { get; }

    /// <summary>Non-blank rows (records) in the file, good or bad.</summary>
    public int RowsRead { get; }

    public IReadOnlyList<SkippedRow> SkippedRows { get; }

    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Whether the rows are chat messages (rendered with the model's chat template); a file is all conversational or all plain.</summary>
    public bool IsConversational => Count > 0 && (Kind == DatasetKind.PreferencePairs ? Pairs.Any(p => p.Prompt.IsConversational) : Examples.Any(e => e.Prompt.IsConversational));

    /// <summary>Examples, or pairs for <see cref="DatasetKind.PreferencePairs"/>.</summary>
    public int Count => Kind == DatasetKind.PreferencePairs ? Pairs.Count : Examples.Count;

    /// <summary>The prompt of item <paramref name="index"/> (an example or a pair).</summary>
    public TextOrIds PromptAt(int index) => Kind == DatasetKind.PreferencePairs ? Pairs[index].Prompt : Examples[index].Prompt;

    /// <summary>Throws a clear error unless the file's kind is one of <paramref name="accepted"/>.</summary>
    public void RequireKind(string purpose, params DatasetKind[] accepted)
    {
        if (Array.IndexOf(accepted, Kind) >= 0) return;
        string wanted = string.Join(" or ", accepted.Select(DatasetKindText.Columns));
        throw new DataFormatException(File, null, null, DataErrorKind.WrongKind,
            $"{purpose} needs {wanted}, but the file holds {DatasetKindText.Describe(Kind)}");
    }

    /// <summary>
    /// Converts for <paramref name="requirement"/> (see <see cref="DataRequirement"/>), or throws a clear error
    /// naming <paramref name="purpose"/> (e.g. "dpo") when the file's kind cannot serve it.
    /// </summary>
    public FeedbackDataset ConvertFor(DataRequirement requirement, string purpose)
    {
        switch (requirement)
        {
            case DataRequirement.Feedback:
                RequireKind(purpose, DatasetKind.LabelledFeedback, DatasetKind.ScoredFeedback, DatasetKind.PreferencePairs);
                return Kind == DatasetKind.PreferencePairs ? ExpandPairs() : this;
            case DataRequirement.Pairs:
                RequireKind(purpose, DatasetKind.PreferencePairs);
                return this;
            case DataRequirement.Completions:
                return Kind == DatasetKind.PreferencePairs ? ChosenOnly() : this;
            default:
                throw new ArgumentOutOfRangeException(nameof(requirement));
        }
    }

    /// <summary>Each pair becomes two labelled rows, chosen (thumbs up) then rejected (thumbs down), both with the pair's line.</summary>
    public FeedbackDataset ExpandPairs()
    {
        if (Kind != DatasetKind.PreferencePairs) throw new InvalidOperationException($"{Kind} data holds no pairs to expand");
        var rows = new List<FeedbackExample>(2 * Pairs.Count);
        foreach (var p in Pairs)
        {
            rows.Add(new FeedbackExample(p.Prompt, p.Chosen, true, null, p.Line, p.Chat));
            rows.Add(new FeedbackExample(p.Prompt, p.Rejected, false, null, p.Line, p.Chat));
        }
        return new FeedbackDataset(File, Format, DatasetKind.LabelledFeedback, rows, [], RowsRead, SkippedRows, Warnings,
            DatasetKind.PreferencePairs);
    }

    /// <summary>Each pair becomes its chosen response as a prompt/completion row (for SFT).</summary>
    public FeedbackDataset ChosenOnly()
    {
        if (Kind != DatasetKind.PreferencePairs) throw new InvalidOperationException($"{Kind} data holds no pairs");
        var rows = Pairs.Select(p => new FeedbackExample(p.Prompt, p.Chosen, null, null, p.Line, p.Chat)).ToList();
        return new FeedbackDataset(File, Format, DatasetKind.PromptCompletion, rows, [], RowsRead, SkippedRows, Warnings,
            DatasetKind.PreferencePairs);
    }

    /// <summary>The items at <paramref name="indices"/> (examples, or pairs), same file, kind and bookkeeping.</summary>
    public FeedbackDataset Select(IReadOnlyList<int> indices)
    {
        if (Kind == DatasetKind.PreferencePairs)
            return new FeedbackDataset(File, Format, Kind, [], indices.Select(i => Pairs[i]).ToList(), RowsRead, SkippedRows, Warnings, ConvertedFrom);
        return new FeedbackDataset(File, Format, Kind, indices.Select(i => Examples[i]).ToList(), [], RowsRead, SkippedRows, Warnings, ConvertedFrom);
    }
}
