namespace DroSharp.Arena.Reports;

/// <summary>
/// Evaluation of a policy on held-out prompts. Rewards are the task's true reward; the win rate is against
/// the SFT policy, one sample each per prompt, ties counted ½; KL is the Monte-Carlo sequence-level
/// KL(π‖π_ref) from samples of π. Null means "not measured".
/// </summary>
public sealed class EvalMetrics
{
    /// <summary>Mean reward of one sampled response per prompt (temperature 1).</summary>
    public double SampledReward { get; set; }

    /// <summary>Mean reward of the greedy response per prompt.</summary>
    public double? GreedyReward { get; set; }

    public double? WinRateVsSft { get; set; }

    public double? WinRateStandardError { get; set; }

    public double? Kl { get; set; }

    public double? KlStandardError { get; set; }

    /// <summary>Number of evaluation prompts.</summary>
    public int Prompts { get; set; }
}
