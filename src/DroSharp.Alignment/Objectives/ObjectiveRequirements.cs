using DroSharp.Alignment.Data;

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

    /// <summary>Why <see cref="MinimumBatchSize"/> is what it is, for the error when a batch is smaller.</summary>
    public string MinimumBatchReason { get; init; } = "the loss is a batch statistic";

    /// <summary>
    /// What the data must hold: single-trajectory feedback (the default), preference pairs, or
    /// prompt/completion rows. Pairs follow from <see cref="ObjectiveInputs.Pairs"/>.
    /// </summary>
    public DataRequirement Data
    {
        get => NeedsPairs ? DataRequirement.Pairs : _data;
        init => _data = value;
    }

    private readonly DataRequirement _data = DataRequirement.Feedback;

    /// <summary>Every row must carry a thumbs-up/down label.</summary>
    public bool NeedsLabels => Inputs.HasFlag(ObjectiveInputs.Labels);

    /// <summary>The error text when labels are needed but the data is scored: what to do instead.</summary>
    public string MissingLabelsHint { get; init; } = "the objective needs a 'label' column";

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
