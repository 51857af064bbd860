namespace DroSharp.Alignment.Data;

/// <summary>One micro-batch of example indices: the 0-based epoch it belongs to and its number within that epoch.</summary>
public sealed record IndexBatch(int Epoch, int BatchInEpoch, int[] Indices);
