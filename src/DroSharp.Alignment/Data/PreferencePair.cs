namespace DroSharp.Alignment.Data;

/// <summary>
/// One preference pair: a prompt, the preferred response and the other one; from line <see cref="Line"/>.
/// <see cref="Chat"/> is set for a conversational pair (all three are chat messages), null otherwise.
/// </summary>
public sealed record PreferencePair(TextOrIds Prompt, TextOrIds Chosen, TextOrIds Rejected, int Line, ChatRowOptions? Chat = null);
