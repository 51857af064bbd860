namespace DroSharp.Tensors;

/// <summary>
/// cos and sin of RoPE angles for positions 0 … MaxPositions − 1, as transformers' rotary embedding
/// computes them in float32: freqs[p, i] = inv_freq[i]·p (a float32 product), cos[p, i] =
/// cos(freqs)·attention_scaling, sin likewise. Only the first half of emb = cat(freqs, freqs) is kept
/// (the second is the same). Owns two tensors [MaxPositions, RotaryDim/2]; dispose when done.
/// </summary>
public sealed class RopeTable : IDisposable
{
    public RopeTable(ReadOnlySpan<float> inverseFrequencies, float attentionScaling, int maxPositions)
    {
        if (inverseFrequencies.Length == 0) throw new ArgumentException("RopeTable: no inverse frequencies");
        if (maxPositions <= 0) throw new ArgumentOutOfRangeException(nameof(maxPositions), $"RopeTable: {maxPositions} positions");
        int half = inverseFrequencies.Length;
        MaxPositions = maxPositions;
        RotaryDim = 2 * half;
        AttentionScaling = attentionScaling;
        Cos = Tensor.Uninitialized(new Shape(maxPositions, half));
        Sin = Tensor.Uninitialized(new Shape(maxPositions, half));
        var cos = Cos.Span;
        var sin = Sin.Span;
        for (int p = 0; p < maxPositions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = inverseFrequencies[i] * (float)p;
                cos[p * half + i] = (float)Math.Cos(angle) * attentionScaling;
                sin[p * half + i] = (float)Math.Sin(angle) * attentionScaling;
            }
        }
    }

    /// <summary>A table for <paramref name="frequencies"/> (its attention scaling rounded to float32, as transformers multiplies).</summary>
    public RopeTable(RopeFrequencies frequencies, int maxPositions)
        : this(frequencies.InverseFrequencies, (float)frequencies.AttentionScaling, maxPositions) { }

    private RopeTable(Tensor cos, Tensor sin, int maxPositions, int rotaryDim)
    {
        Cos = cos;
        Sin = sin;
        MaxPositions = maxPositions;
        RotaryDim = rotaryDim;
        AttentionScaling = 1f;
    }

    /// <summary>
    /// A table from given cos and sin values, [maxPositions, rotaryDim/2] each (e.g. several blocks of
    /// rows with different frequencies stacked; <see cref="AttentionScaling"/> is then already applied).
    /// </summary>
    public static RopeTable FromCosSin(ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int maxPositions, int rotaryDim)
    {
        int half = rotaryDim / 2;
        if (rotaryDim < 2 || rotaryDim % 2 != 0) throw new ArgumentException($"RopeTable: rotary dimension {rotaryDim} must be even and ≥ 2");
        if (cos.Length != maxPositions * half || sin.Length != cos.Length)
            throw new ArgumentException($"RopeTable: {cos.Length} cos and {sin.Length} sin values for {maxPositions} positions × {half}");
        return new RopeTable(Tensor.FromArray(cos, new Shape(maxPositions, half)), Tensor.FromArray(sin, new Shape(maxPositions, half)), maxPositions, rotaryDim);
    }

    public int MaxPositions { get; }

    /// <summary>The rotating dimensions at the start of each head (even).</summary>
    public int RotaryDim { get; }

    public float AttentionScaling { get; }

    /// <summary>cos(inv_freq[i]·p)·attention_scaling: [MaxPositions, RotaryDim/2].</summary>
    public Tensor Cos { get; }

    /// <summary>sin(inv_freq[i]·p)·attention_scaling: [MaxPositions, RotaryDim/2].</summary>
    public Tensor Sin { get; }

    public void Dispose()
    {
        Cos.Dispose();
        Sin.Dispose();
    }
}
