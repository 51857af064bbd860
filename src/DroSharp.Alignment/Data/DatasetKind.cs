namespace DroSharp.Alignment.Data;

/// <summary>
/// What a data file holds, detected from its columns (the CSV header, or the first well-formed JSON row).
/// Each of the text columns may instead be given as token ids (<c>prompt_ids</c>, <c>completion_ids</c>,
/// <c>chosen_ids</c>, <c>rejected_ids</c>).
/// </summary>
public enum DatasetKind
{
    /// <summary><c>prompt</c>, <c>completion</c>, <c>label</c> (bool): thumbs up/down, TRL's unpaired preference.</summary>
    LabelledFeedback,
    /// <summary><c>prompt</c>, <c>completion</c>, <c>reward</c> (number). A <c>label</c> column beside it is ignored, with a warning.</summary>
    ScoredFeedback,
    /// <summary><c>prompt</c>, <c>chosen</c>, <c>rejected</c>: TRL's preference pairs (DPO).</summary>
    PreferencePairs,
    /// <summary><c>prompt</c>, <c>completion</c> only: supervised fine-tuning.</summary>
    PromptCompletion,
}
