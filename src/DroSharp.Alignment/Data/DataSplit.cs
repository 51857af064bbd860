namespace DroSharp.Alignment.Data;

/// <summary>Indices into a dataset for the training and eval parts, each ascending (file order).</summary>
public sealed record DataSplit(int[] Train, int[] Eval);
