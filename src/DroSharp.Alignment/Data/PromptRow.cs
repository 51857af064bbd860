namespace DroSharp.Alignment.Data;

/// <summary>A prompt from a prompts file, with its 1-based line; <see cref="Chat"/> is set when the prompt is chat messages.</summary>
public sealed record PromptRow(TextOrIds Prompt, int Line, ChatRowOptions? Chat = null);
