namespace DroSharp.Alignment.Data;

/// <summary>Human wording for <see cref="DatasetKind"/> in messages and summaries.</summary>
internal static class DatasetKindText
{
    public static string Columns(DatasetKind kind) => kind switch
    {
        DatasetKind.LabelledFeedback => "prompt/completion/label rows",
        DatasetKind.ScoredFeedback => "prompt/completion/reward rows",
        DatasetKind.PreferencePairs => "prompt/chosen/rejected pairs",
        DatasetKind.PromptCompletion => "prompt/completion rows",
        _ => kind.ToString(),
    };

    public static string Describe(DatasetKind kind) => kind switch
    {
        DatasetKind.LabelledFeedback => "labelled feedback (prompt, completion, label)",
        DatasetKind.ScoredFeedback => "scored feedback (prompt, completion, reward)",
        DatasetKind.PreferencePairs => "preference pairs (prompt, chosen, rejected)",
        DatasetKind.PromptCompletion => "prompt/completion rows without feedback (prompt, completion)",
        _ => kind.ToString(),
    };

    public static string Short(DatasetKind kind) => kind switch
    {
        DatasetKind.LabelledFeedback => "labelled",
        DatasetKind.ScoredFeedback => "scored",
        DatasetKind.PreferencePairs => "pairs",
        DatasetKind.PromptCompletion => "prompt-completion",
        _ => kind.ToString(),
    };
}
