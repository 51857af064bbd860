namespace DroSharp.Alignment.Data;

/// <summary>Column names, in TRL's conventions. Each text column <c>x</c> may be given as ids in <c>x_ids</c>.</summary>
internal static class Columns
{
    public const string Prompt = "prompt";
    public const string Completion = "completion";
    public const string Label = "label";
    public const string Reward = "reward";
    public const string Chosen = "chosen";
    public const string Rejected = "rejected";
    /// <summary>A whole conversation (TRL's conversational language-modeling form); its last assistant message is the completion.</summary>
    public const string Messages = "messages";
    /// <summary>Per-row extra chat template variables (an object), as TRL's <c>chat_template_kwargs</c>.</summary>
    public const string ChatTemplateKwargs = "chat_template_kwargs";
    /// <summary>Per-row tool schemas passed to the chat template (a list, or JSON text of one).</summary>
    public const string Tools = "tools";
    public const string IdsSuffix = "_ids";

    public static string Ids(string textColumn) => textColumn + IdsSuffix;

    /// <summary>Whether the row has the text column or its ids column.</summary>
    public static bool HasEither(RawRecord r, string textColumn) => r.Has(textColumn) || r.Has(Ids(textColumn));

    /// <summary>The kind a row's columns imply, or null when they imply none.</summary>
    public static DatasetKind? KindOf(RawRecord r)
    {
        if (HasEither(r, Chosen) || HasEither(r, Rejected)) return DatasetKind.PreferencePairs;
        if (r.Has(Reward)) return DatasetKind.ScoredFeedback;
        if (r.Has(Label)) return DatasetKind.LabelledFeedback;
        if (HasEither(r, Completion) || r.Has(Messages)) return DatasetKind.PromptCompletion;
        return null;
    }
}
