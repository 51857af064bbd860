namespace DroSharp.Alignment.Training;

/// <summary>One (prompt, completion) sequence the networks score, with its feedback.</summary>
internal readonly record struct TrainingRow(int[] Prompt, int[] Completion, double Reward, bool? Label, int PromptGroup);
