namespace DroSharp.Alignment.Data;

/// <summary>A prompt from a prompts file, with its 1-based line.</summary>
public sealed record PromptRow(TextOrIds Prompt, int Line);
