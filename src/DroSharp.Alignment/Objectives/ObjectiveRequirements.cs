namespace DroSharp.Alignment.Objectives;

/// <summary>
/// What an objective needs from the trainer, so it can prepare the batch (and refuse a configuration
/// that cannot work) before the first step.
/// </summary>
public sealed record ObjectiveRequirements
{
    /// <summary>The arrays <see cref="ObjectiveBatch"/> must carry.</summary>
    public required ObjectiveInputs Inputs { get; init; }

    /// <summary>Smallest micro-batch the objective accepts (KTO and DRO-P: 2).</summary>
    public int MinimumBatchSize { get; init; } = 1;

    /// <summary>A value network V_φ(x) must be built and trained (DRO-V).</summary>
    public bool NeedsValueNetwork => Inputs.HasFlag(ObjectiveInputs.Values);

    /// <summary>Mismatched (xᵢ, y_{m(i)}) log-probs must be computed in every micro-batch (KTO).</summary>
    public bool NeedsMismatchedLogProbs => Inputs.HasFlag(ObjectiveInputs.MismatchedLogProbs);

    /// <summary>The data must be (prompt, chosen, rejected) pairs (DPO).</summary>
    public bool NeedsPairs => Inputs.HasFlag(ObjectiveInputs.Pairs);

    /// <summary>Reference log-probs are needed (everything but SFT).</summary>
    public bool NeedsReference => Inputs.HasFlag(ObjectiveInputs.ReferenceLogProbs);

    /// <summary>
    /// The data set must hold several responses for at least one prompt (RPO's per-prompt soft value).
    /// </summary>
    public bool NeedsSeveralResponsesPerPrompt { get; init; }

    /// <summary>
    /// Mismatched pairs are built inside each micro-batch, so the sampler must keep the micro-batch
    /// fixed (TRL's sequential sampler) or build the pairs after sampling (KTO).
    /// </summary>
    public bool PairsInsideMicroBatch => NeedsMismatchedLogProbs;

    /// <summary>Train on the positive rows only (SFT on positives: filter with <see cref="SftObjective.PositiveIndices(ReadOnlySpan{bool})"/>).</summary>
    public bool PositivesOnly { get; init; }

    /// <summary>How the DRO-V value is parameterised (meaningful only when <see cref="NeedsValueNetwork"/>).</summary>
    public DroValueMode ValueMode { get; init; } = DroValueMode.PerExample;
}
