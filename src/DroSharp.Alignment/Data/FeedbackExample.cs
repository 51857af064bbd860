namespace DroSharp.Alignment.Data;

/// <summary>
/// One row: a prompt, one response, and the feedback on it. <see cref="Label"/> is set for labelled feedback,
/// <see cref="Reward"/> (the raw score from the file) for scored feedback, neither for prompt/completion data.
/// <see cref="Line"/> is the 1-based line of the row in its file. A conversational row (prompt and completion are
/// chat messages) carries its template variables and tools in <see cref="Chat"/>; null for plain rows.
/// </summary>
public sealed record FeedbackExample(TextOrIds Prompt, TextOrIds Completion, bool? Label, double? Reward, int Line, ChatRowOptions? Chat = null);
