namespace DroSharp.Arena.Reports;

/// <summary>
/// Monte-Carlo estimate of the sequence-level KL(π‖π_ref) from y ~ π:
///   Kl = mean(log π(y|x) − log π_ref(y|x))             (unbiased; may be negative on a small sample)
///   K3 = mean(exp(−d) − 1 + d), d = log π − log π_ref  (also unbiased, every term ≥ 0, lower variance near π = π_ref)
/// StandardError is that of the first mean.
/// </summary>
public readonly record struct KlEstimate(double Kl, double StandardError, double K3, int Count);
