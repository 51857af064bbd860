namespace DroSharp.Arena.Tasks;

/// <summary>One supervised example for SFT: a prompt and the completion a (mediocre) demonstrator wrote.</summary>
public sealed record Demonstration(string Prompt, string Completion);
