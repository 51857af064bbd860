namespace DroSharp.Alignment.Objectives;

/// <summary>
/// The per-example arrays an objective reads from an <see cref="ObjectiveBatch"/>. The trainer
/// prepares exactly these (and nothing else) before calling <see cref="IAlignmentObjective.Compute"/>.
/// </summary>
[Flags]
public enum ObjectiveInputs
{
    None = 0,
    /// <summary>log πθ(yᵢ|xᵢ) [B]: always needed; the only input that receives a gradient besides values.</summary>
    PolicyLogProbs = 1 << 0,
    /// <summary>log π_ref(yᵢ|xᵢ) [B], constant (precomputed once before training).</summary>
    ReferenceLogProbs = 1 << 1,
    /// <summary>V_φ(xᵢ) [B] from the value network; receives a gradient.</summary>
    Values = 1 << 2,
    /// <summary>Scalar rewards rᵢ [B].</summary>
    Rewards = 1 << 3,
    /// <summary>Desirable (true) / undesirable (false) labels [B].</summary>
    Labels = 1 << 4,
    /// <summary>
    /// Mismatched-pair log-probs for KTO's KL reference point [B]: log πθ(y_{m(i)}|xᵢ) and
    /// log π_ref(y_{m(i)}|xᵢ) with m(i) = <see cref="KtoObjective.MismatchedCompletionIndex"/>. No gradient.
    /// </summary>
    MismatchedLogProbs = 1 << 5,
    /// <summary>(chosen, rejected) row-index pairs [P] into the batch (DPO).</summary>
    Pairs = 1 << 6,
    /// <summary>RPO's per-prompt soft value V̂(xᵢ) [B], precomputed from the reference (<see cref="RpoObjective.EstimatePartitionValues"/>).</summary>
    PartitionValues = 1 << 7,
    /// <summary>Number of completion tokens of each example [B] (per-token SFT normalisation).</summary>
    TokenCounts = 1 << 8,
}
