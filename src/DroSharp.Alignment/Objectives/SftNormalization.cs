namespace DroSharp.Alignment.Objectives;

/// <summary>What SFT's negative log-likelihood is averaged over inside a micro-batch.</summary>
public enum SftNormalization
{
    /// <summary>
    /// Default, as transformers/TRL SFT: total NLL over the total number of completion tokens,
    /// L = −Σᵢ log π(yᵢ|xᵢ) / Σᵢ |yᵢ|. Needs <see cref="ObjectiveInputs.TokenCounts"/>.
    /// </summary>
    PerToken,

    /// <summary>Mean over sequences of the summed NLL: L = −(1/B) Σᵢ log π(yᵢ|xᵢ).</summary>
    PerSequence,
}
