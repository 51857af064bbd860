namespace DroSharp.Alignment.Objectives;

/// <summary>A DPO pair: indices of the chosen (preferred) and rejected rows of the same prompt in the batch.</summary>
public readonly record struct PreferencePair(int Chosen, int Rejected);
