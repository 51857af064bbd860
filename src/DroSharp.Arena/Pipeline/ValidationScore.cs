namespace DroSharp.Arena.Pipeline;

/// <summary>A checkpoint's score on the validation prompts: its win rate against SFT's samples and its mean true reward.</summary>
public readonly record struct ValidationScore(double WinRate, double Reward);
