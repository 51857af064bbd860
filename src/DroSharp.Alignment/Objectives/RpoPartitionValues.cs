namespace DroSharp.Alignment.Objectives;

/// <summary>
/// RPO's empirical soft values, one per example: V̂(xᵢ) of the prompt group of row i
/// (<see cref="RpoObjective.EstimatePartitionValues"/>).
/// </summary>
/// <param name="Values">V̂(xᵢ) [N], aligned with the examples passed in.</param>
/// <param name="PromptCount">Number of distinct prompt groups.</param>
/// <param name="SingletonPromptCount">
/// Groups with one response. For those V̂ = τ·log π_ref(y|x) + r, so RPO's target is log πθ(y|x) = 0:
/// the policy is pushed to put all its mass on that one response. The trainer should report this count.
/// </param>
public sealed record RpoPartitionValues(double[] Values, int PromptCount, int SingletonPromptCount);
