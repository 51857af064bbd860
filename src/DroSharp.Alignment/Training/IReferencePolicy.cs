using DroSharp.Models.Generation;

namespace DroSharp.Alignment.Training;

/// <summary>
/// π_ref as the held-out monitor needs it after the cached reference log-probs of the data: scoring
/// the policy's own samples (for KL(π‖π_ref)) and sampling from π_ref itself (for the lengths and EOS
/// rate to compare with). Today <see cref="DirectoryReferencePolicy"/> loads the reference model
/// directory on demand; with LoRA the reference is the base model with the adapters off, which
/// needs no second copy of the weights — an implementation of this interface is all it takes.
/// </summary>
public interface IReferencePolicy : IDisposable
{
    /// <summary>log π_ref(completionᵢ | promptᵢ) summed over the completion (divided by its length when asked), no gradient.</summary>
    double[] Score(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int batchSize, bool lengthNormalize);

    /// <summary>Completions sampled from π_ref (end-of-sequence included when reached), one per prompt, in order.</summary>
    List<int[]> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options);

    /// <summary>Frees what the last calls loaded (called after each evaluation); the next call loads it again.</summary>
    void Release();
}
