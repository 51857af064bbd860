namespace DroSharp.Tensors;

/// <summary>
/// The numbers of a Hugging Face config's <c>rope_scaling</c> object, already parsed (this layer reads
/// no JSON). Each property is the key of the same name; null = absent. Which keys a
/// <c>rope_type</c> reads is listed at <see cref="RopeFrequencies.Compute"/>.
/// </summary>
public sealed class RopeScalingParameters
{
    /// <summary><c>factor</c> (linear, dynamic, yarn, llama3; longrope without a config-level original length).</summary>
    public double? Factor { get; init; }

    /// <summary><c>original_max_position_embeddings</c> inside rope_scaling (llama3: required; yarn: optional, then factor = max_position_embeddings / this).</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary><c>attention_factor</c> (yarn, longrope): the cos/sin multiplier; computed when absent.</summary>
    public double? AttentionFactor { get; init; }

    /// <summary><c>beta_fast</c> (yarn; absent or 0 means 32).</summary>
    public double? BetaFast { get; init; }

    /// <summary><c>beta_slow</c> (yarn; absent or 0 means 1).</summary>
    public double? BetaSlow { get; init; }

    /// <summary><c>mscale</c> (yarn).</summary>
    public double? Mscale { get; init; }

    /// <summary><c>mscale_all_dim</c> (yarn).</summary>
    public double? MscaleAllDim { get; init; }

    /// <summary><c>truncate</c> (yarn; absent means true: the correction range is rounded to whole dimensions).</summary>
    public bool? Truncate { get; init; }

    /// <summary><c>low_freq_factor</c> (llama3).</summary>
    public double? LowFreqFactor { get; init; }

    /// <summary><c>high_freq_factor</c> (llama3).</summary>
    public double? HighFreqFactor { get; init; }

    /// <summary><c>short_factor</c> (longrope): rotaryDim/2 divisors of the frequencies for sequences up to the original length.</summary>
    public double[]? ShortFactor { get; init; }

    /// <summary><c>long_factor</c> (longrope): the divisors for longer sequences.</summary>
    public double[]? LongFactor { get; init; }
}
