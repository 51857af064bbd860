namespace DroSharp.Alignment.Data;

/// <summary>One preference pair as ids, after truncation, from line <see cref="Line"/>.</summary>
public sealed record TokenizedPair(int[] PromptIds, int[] ChosenIds, int[] RejectedIds, int Line);
