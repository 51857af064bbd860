namespace DroSharp.Text.Templates;

/// <summary>
/// A dataset row rendered as TRL's <c>maybe_apply_chat_template</c> renders it; the fields it does not have are
/// null. Prompt-completion rows give <see cref="Prompt"/> and <see cref="Completion"/> with
/// <c>Prompt + Completion</c> the whole rendered conversation; preference rows give <see cref="Chosen"/> and
/// <see cref="Rejected"/> (after <see cref="Prompt"/> when the row has one); <c>messages</c> rows give <see cref="Text"/>.
/// </summary>
/// <param name="PromptCharsDropped">
/// How many trailing characters of the prompt's own rendering TRL's common-prefix rule dropped because the
/// whole conversation renders them differently (e.g. a generation prompt the full rendering does not have); 0 normally.
/// </param>
public sealed record ConversationText(
    string? Prompt,
    string? Completion,
    string? Chosen,
    string? Rejected,
    string? Text,
    int PromptCharsDropped);
