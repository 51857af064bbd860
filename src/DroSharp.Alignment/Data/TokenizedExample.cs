namespace DroSharp.Alignment.Data;

/// <summary>
/// One training row as ids, after truncation. <see cref="RawReward"/> is the reward from the file or the label's
/// value (1.0 up / 0.0 down by default); <see cref="Reward"/> is what the objective uses (z-normalised unless
/// switched off). Both are null for prompt/completion rows. <see cref="Line"/> points back into the file.
/// </summary>
public sealed record TokenizedExample(int[] PromptIds, int[] CompletionIds, bool? Label, double? RawReward, double? Reward, int Line);
