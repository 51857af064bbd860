namespace DroSharp.Alignment.Training;

/// <summary>
/// The names of the held-out sampling signals in <c>metrics.jsonl</c>, with TRL's <c>eval_</c> prefix and
/// TRL's names where TRL has one (<see cref="HeldOutMonitor"/> computes them).
/// </summary>
public static class HeldOutMetricNames
{
    /// <summary>Mean of log π − log π_ref over the policy's own samples (TRL's <c>objective/kl</c>), nats per sequence.</summary>
    public const string Kl = "eval_objective/kl";

    /// <summary>Fraction of samples ending with a stop id (TRL Online DPO's <c>val/contain_eos_token</c>).</summary>
    public const string EosRate = "eval_val/contain_eos_token";

    /// <summary>Mean sampled tokens, the stop id included (TRL GRPO's <c>completions/mean_length</c>).</summary>
    public const string MeanLength = "eval_completions/mean_length";

    /// <summary>1 − the EOS rate (TRL GRPO's <c>completions/clipped_ratio</c>).</summary>
    public const string ClippedRatio = "eval_completions/clipped_ratio";

    /// <summary>π_ref's EOS rate on the same prompts and seeds.</summary>
    public const string ReferenceEosRate = "eval_ref_val/contain_eos_token";

    /// <summary>π_ref's mean sampled length on the same prompts and seeds.</summary>
    public const string ReferenceMeanLength = "eval_ref_completions/mean_length";
}
