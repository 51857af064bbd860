namespace DroSharp.Alignment.Data;

/// <summary>
/// One split ready for training: token ids after truncation, final rewards, prompt groups and the summary.
/// <see cref="Source"/> keeps the rows as read (texts, lines), index for index with <see cref="Examples"/> or
/// <see cref="Pairs"/>.
/// </summary>
public sealed class PreparedSplit(
    string name,
    FeedbackDataset source,
    IReadOnlyList<TokenizedExample> examples,
    IReadOnlyList<TokenizedPair> pairs,
    PromptGroups promptGroups,
    DatasetSummary summary)
{
    /// <summary>"train" or "eval".</summary>
    public string Name { get; } = name;

    public FeedbackDataset Source { get; } = source;

    public DatasetKind Kind => Source.Kind;

    /// <summary>Unpaired rows (empty for preference pairs).</summary>
    public IReadOnlyList<TokenizedExample> Examples { get; } = examples;

    /// <summary>Preference pairs (empty otherwise).</summary>
    public IReadOnlyList<TokenizedPair> Pairs { get; } = pairs;

    public int Count => Kind == DatasetKind.PreferencePairs ? Pairs.Count : Examples.Count;

    public PromptGroups PromptGroups { get; } = promptGroups;

    public DatasetSummary Summary { get; } = summary;
}
