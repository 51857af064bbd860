namespace DroSharp.Alignment.Data;

/// <summary>
/// One row as the model sees it, before truncation: the prompt's tokens and each response's (one completion, or
/// chosen then rejected; none for a prompts file). The texts are what was tokenised — the file's text, or for a
/// conversational row its chat-template rendering; null for token ids given verbatim.
/// </summary>
/// <param name="Conversational">The row was chat messages, rendered with the chat template.</param>
/// <param name="PromptCharsDropped">See <see cref="EncodedConversation.PromptCharsDropped"/>; 0 for plain rows.</param>
/// <param name="SplitMatchesWhole">See <see cref="EncodedConversation.SplitMatchesWhole"/>; true for plain rows.</param>
public sealed record EncodedRow(
    int Line,
    string? PromptText,
    int[] PromptIds,
    IReadOnlyList<string?> ResponseTexts,
    IReadOnlyList<int[]> ResponseIds,
    bool Conversational,
    int PromptCharsDropped,
    bool SplitMatchesWhole);
