namespace DroSharp.Arena.Pipeline;

/// <summary>
/// One policy on a list of prompts: one sample per prompt (temperature 1), its true reward and its
/// log π(y|x) − log π_ref(y|x); the greedy response and its reward when asked for. Arrays are indexed by prompt.
/// </summary>
public sealed class PolicyEvaluation
{
    public required IReadOnlyList<string> Prompts { get; init; }
    public required string[] Samples { get; init; }
    public required double[] SampleRewards { get; init; }

    /// <summary>log π(y|x) − log π_ref(y|x) of each sample (0 for π_ref itself; NaN when not scored).</summary>
    public required double[] LogRatios { get; init; }

    /// <summary>Samples that hit the token limit before end-of-sequence.</summary>
    public int UnfinishedSamples { get; init; }

    public string[]? Greedy { get; init; }
    public double[]? GreedyRewards { get; init; }

    public double MeanSampleReward => SampleRewards.Average();
    public double? MeanGreedyReward => GreedyRewards?.Average();
}
