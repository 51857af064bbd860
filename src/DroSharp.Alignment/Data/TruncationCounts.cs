namespace DroSharp.Alignment.Data;

/// <summary>How many prompts and completions were cut to the length limits, and how many tokens that dropped.</summary>
public sealed record TruncationCounts(
    int Prompts,
    int PromptsTruncated,
    long PromptTokensDropped,
    int Completions,
    int CompletionsTruncated,
    long CompletionTokensDropped);
