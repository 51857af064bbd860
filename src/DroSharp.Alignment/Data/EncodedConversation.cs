namespace DroSharp.Alignment.Data;

/// <summary>
/// A <see cref="Conversation"/> rendered with the chat template (TRL's split: the prompt with the generation
/// prompt, each response the rest of its whole conversation) and tokenised without added special tokens (the
/// template writes them): <see cref="PromptText"/> ⧺ <c>ResponseTexts[i]</c> is the whole rendered conversation i.
/// </summary>
/// <param name="PromptText">The rendered prompt (cut to the common prefix when the template renders it differently inside the whole conversation).</param>
/// <param name="PromptIds">Its tokens.</param>
/// <param name="ResponseTexts">The rest of each whole rendering, in the order of <see cref="Conversation.Responses"/>.</param>
/// <param name="ResponseIds">Their tokens.</param>
/// <param name="PromptCharsDropped">
/// Characters of the prompt's own rendering that TRL's common-prefix rule dropped because the whole conversation
/// renders them differently (0 normally); the dropped text then starts the response, as in TRL.
/// </param>
/// <param name="SplitMatchesWhole">
/// Whether prompt tokens ⧺ each response's tokens equal the tokenisation of the whole rendered text (false when a
/// token would straddle the boundary, so the model trains on a tokenisation it would not produce itself).
/// </param>
public sealed record EncodedConversation(
    string PromptText,
    int[] PromptIds,
    IReadOnlyList<string> ResponseTexts,
    IReadOnlyList<int[]> ResponseIds,
    int PromptCharsDropped,
    bool SplitMatchesWhole);
