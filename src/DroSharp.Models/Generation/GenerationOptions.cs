namespace DroSharp.Models.Generation;

/// <summary>
/// Decoding settings, applied as Hugging Face's logits warpers are: temperature, then top-k, then
/// top-p (nucleus). <see cref="Greedy"/> takes the arg-max and ignores the rest.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 64;
    public bool Greedy { get; init; } = true;
    public float Temperature { get; init; } = 1f;
    /// <summary>0 = no top-k filtering.</summary>
    public int TopK { get; init; }
    /// <summary>1 = no nucleus filtering.</summary>
    public float TopP { get; init; } = 1f;
    public ulong Seed { get; init; }

    public void Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentException($"max new tokens must be at least 1, got {MaxNewTokens}");
        if (!(Temperature > 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be a positive number, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"top-k must be 0 (off) or positive, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}");
    }
}
