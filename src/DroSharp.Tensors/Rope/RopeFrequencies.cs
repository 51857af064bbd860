namespace DroSharp.Tensors;

/// <summary>
/// RoPE inverse frequencies and the attention scaling (the cos/sin multiplier) of each
/// <c>rope_type</c> of Hugging Face transformers 4.55's <c>modeling_rope_utils.py</c>, reproduced
/// step by step in float32 where transformers computes in float32 tensors (python scalars are
/// rounded to float32 where they meet a float32 tensor, <c>a / t</c> is <c>t.reciprocal() * a</c>) and
/// in double where it computes with python floats.
/// </summary>
public sealed class RopeFrequencies
{
    private RopeFrequencies(float[] inverseFrequencies, double attentionScaling)
    {
        InverseFrequencies = inverseFrequencies;
        AttentionScaling = attentionScaling;
    }

    /// <summary>inv_freq: [rotaryDim/2].</summary>
    public float[] InverseFrequencies { get; }

    /// <summary>attention_scaling (a python float in transformers; cos and sin are multiplied by it in float32).</summary>
    public double AttentionScaling { get; }

    /// <summary>The rotating dimensions of a head: 2·InverseFrequencies.Length.</summary>
    public int RotaryDim => 2 * InverseFrequencies.Length;

    /// <summary>
    /// The frequencies for a forward pass over positions 0 … <paramref name="sequenceLength"/> − 1
    /// (transformers' <c>max(position_ids) + 1</c>). dim = int(<paramref name="headDim"/> ·
    /// <paramref name="partialRotaryFactor"/>) dimensions of each head rotate. Per rope_type:
    /// <list type="bullet">
    /// <item><c>default</c>: inv_freq = 1 / rope_theta^(2i/dim).</item>
    /// <item><c>linear</c>: default / factor.</item>
    /// <item><c>dynamic</c> (NTK): default up to max_position_embeddings; beyond, rope_theta is grown
    /// to θ·(factor·L/max − (factor − 1))^(dim/(dim−2)) for L = sequenceLength, in float32 as transformers'
    /// forward-time update does. (transformers keeps the longest length seen so far between calls; this
    /// function is stateless: pass that length to reproduce it.)</item>
    /// <item><c>llama3</c>: factor, low_freq_factor, high_freq_factor, original_max_position_embeddings.</item>
    /// <item><c>yarn</c>: factor, optional original_max_position_embeddings (then factor =
    /// max_position_embeddings / it), attention_factor, beta_fast, beta_slow, mscale, mscale_all_dim, truncate.</item>
    /// <item><c>longrope</c>: short_factor, long_factor (the long ones when sequenceLength &gt; the original
    /// length), attention_factor, factor; the original length is the config-level
    /// <paramref name="originalMaxPositionEmbeddings"/> (then factor = max_position_embeddings / it), else
    /// max_position_embeddings.</item>
    /// </list>
    /// </summary>
    /// <param name="ropeType">rope_scaling.rope_type (or its older name <c>type</c>); null or "default" without rope_scaling.</param>
    /// <param name="ropeTheta">rope_theta.</param>
    /// <param name="headDim">head_dim (or hidden_size / num_attention_heads).</param>
    /// <param name="partialRotaryFactor">partial_rotary_factor (1 when absent).</param>
    /// <param name="maxPositionEmbeddings">max_position_embeddings.</param>
    /// <param name="ropeScaling">the rope_scaling numbers, or null.</param>
    /// <param name="originalMaxPositionEmbeddings">the config-level original_max_position_embeddings (Phi-3), or null; read by longrope only.</param>
    /// <param name="sequenceLength">max(position) + 1 of the forward pass (dynamic and longrope depend on it).</param>
    public static RopeFrequencies Compute(string? ropeType, double ropeTheta, int headDim, double partialRotaryFactor,
        int maxPositionEmbeddings, RopeScalingParameters? ropeScaling, int? originalMaxPositionEmbeddings, int sequenceLength)
    {
        ropeType ??= "default";
        if (!(ropeTheta > 0) || double.IsInfinity(ropeTheta)) throw new ArgumentException($"rope_theta {ropeTheta} must be a positive number");
        if (headDim <= 0) throw new ArgumentException($"head_dim {headDim} must be positive");
        if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) throw new ArgumentException($"partial_rotary_factor {partialRotaryFactor} must be in (0, 1]");
        if (maxPositionEmbeddings <= 0) throw new ArgumentException($"max_position_embeddings {maxPositionEmbeddings} must be positive");
        int dim = (int)(headDim * partialRotaryFactor);
        if (dim < 2 || dim % 2 != 0)
            throw new ArgumentException($"rotary dimension int(head_dim {headDim} · partial_rotary_factor {partialRotaryFactor}) = {dim} must be even and at least 2");
        var s = ropeScaling ?? new RopeScalingParameters();
        return ropeType switch
        {
            "default" => new RopeFrequencies(DefaultInverse(ropeTheta, dim), 1.0),
            "linear" => Linear(ropeTheta, dim, Required(s.Factor, "factor", ropeType)),
            "dynamic" => Dynamic(ropeTheta, dim, maxPositionEmbeddings, Required(s.Factor, "factor", ropeType), sequenceLength),
            "llama3" => Llama3(ropeTheta, dim, s, ropeType),
            "yarn" => Yarn(ropeTheta, dim, maxPositionEmbeddings, s, ropeType),
            "longrope" => LongRope(ropeTheta, dim, maxPositionEmbeddings, s, originalMaxPositionEmbeddings, sequenceLength, ropeType),
            _ => throw new ArgumentException($"rope_scaling.rope_type '{ropeType}' is not one of default, linear, dynamic, llama3, yarn, longrope"),
        };
    }

    private static double Required(double? value, string key, string ropeType) =>
        value ?? throw new ArgumentException($"rope_scaling.{key} is required for rope_type '{ropeType}'");

    /// <summary>float32 base^(2i/dim) for i &lt; dim/2: (float)(2i) / dim in float32, then powf.</summary>
    private static float[] BasePowers(float theta, int dim)
    {
        var p = new float[dim / 2];
        for (int i = 0; i < p.Length; i++)
        {
            float e = (float)(2 * i) / dim;
            p[i] = (float)Math.Pow(theta, e);
        }
        return p;
    }

    // inv_freq = 1.0 / (base ** (arange(0, dim, 2).float() / dim))
    private static float[] DefaultInverse(double theta, int dim)
    {
        var p = BasePowers((float)theta, dim);
        for (int i = 0; i < p.Length; i++) p[i] = 1f / p[i];
        return p;
    }

    // inv_freq /= factor
    private static RopeFrequencies Linear(double theta, int dim, double factor)
    {
        var inv = DefaultInverse(theta, dim);
        for (int i = 0; i < inv.Length; i++) inv[i] /= (float)factor;
        return new RopeFrequencies(inv, 1.0);
    }

    private static RopeFrequencies Dynamic(double theta, int dim, int maxPositions, double factor, int sequenceLength)
    {
        float baseF;
        if (sequenceLength > maxPositions)
        {
            // Forward-time update: seq_len is a tensor, so every step is a float32 tensor operation.
            float ratio = (float)factor * (float)sequenceLength / maxPositions - (float)(factor - 1);
            float grown = (float)Math.Pow(ratio, (float)((double)dim / (dim - 2)));
            baseF = (float)theta * grown;
        }
        else
        {
            // Initialisation: seq_len = max_position_embeddings, python floats.
            double grown = Math.Pow(factor * maxPositions / maxPositions - (factor - 1), (double)dim / (dim - 2));
            baseF = (float)(theta * grown);
        }
        var p = BasePowers(baseF, dim);
        for (int i = 0; i < p.Length; i++) p[i] = 1f / p[i];
        return new RopeFrequencies(p, 1.0);
    }

    private static RopeFrequencies Llama3(double theta, int dim, RopeScalingParameters s, string ropeType)
    {
        double factor = Required(s.Factor, "factor", ropeType);
        double low = Required(s.LowFreqFactor, "low_freq_factor", ropeType);
        double high = Required(s.HighFreqFactor, "high_freq_factor", ropeType);
        int old = s.OriginalMaxPositionEmbeddings ?? throw new ArgumentException($"rope_scaling.original_max_position_embeddings is required for rope_type '{ropeType}'");
        var inv = DefaultInverse(theta, dim);
        float lowWavelen = (float)(old / low), highWavelen = (float)(old / high);
        float twoPi = (float)(2 * Math.PI), factorF = (float)factor, lowF = (float)low, span = (float)(high - low), oldF = old;
        var result = new float[inv.Length];
        for (int i = 0; i < inv.Length; i++)
        {
            float wavelen = 1f / inv[i] * twoPi;                               // 2π / inv_freq
            float invLlama = wavelen > lowWavelen ? inv[i] / factorF : inv[i];
            float smooth = (1f / wavelen * oldF - lowF) / span;                // (old / wavelen − low) / (high − low)
            float smoothed = (1f - smooth) * invLlama / factorF + smooth * invLlama;
            bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            result[i] = medium ? smoothed : invLlama;
        }
        return new RopeFrequencies(result, 1.0);
    }

    private static RopeFrequencies Yarn(double theta, int dim, int maxPositions, RopeScalingParameters s, string ropeType)
    {
        double factor = Required(s.Factor, "factor", ropeType);
        int original = maxPositions;
        if (s.OriginalMaxPositionEmbeddings is int o)
        {
            if (o <= 0) throw new ArgumentException($"rope_scaling.original_max_position_embeddings {o} must be positive");
            original = o;
            factor = (double)maxPositions / o;
        }
        static double GetMscale(double scale, double mscale = 1) => scale <= 1 ? 1.0 : 0.1 * mscale * Math.Log(scale) + 1.0;
        double attention = s.AttentionFactor ?? (s.Mscale is double m && m != 0 && s.MscaleAllDim is double mAll && mAll != 0
            ? GetMscale(factor, m) / GetMscale(factor, mAll)
            : GetMscale(factor));
        double betaFast = s.BetaFast is double bf && bf != 0 ? bf : 32;
        double betaSlow = s.BetaSlow is double bs && bs != 0 ? bs : 1;

        double CorrectionDim(double rotations) => dim * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
        double lowD = CorrectionDim(betaFast), highD = CorrectionDim(betaSlow);
        if (s.Truncate ?? true)
        {
            lowD = Math.Floor(lowD);
            highD = Math.Ceiling(highD);
        }
        lowD = Math.Max(lowD, 0);
        highD = Math.Min(highD, dim - 1);
        if (lowD == highD) highD += 0.001; // transformers: prevent singularity

        var pos = BasePowers((float)theta, dim);
        float lowF = (float)lowD, spanF = (float)(highD - lowD), factorF = (float)factor;
        var inv = new float[pos.Length];
        for (int i = 0; i < inv.Length; i++)
        {
            float extrapolation = 1f / pos[i];
            float interpolation = 1f / (factorF * pos[i]);
            float ramp = Math.Clamp(((float)i - lowF) / spanF, 0f, 1f);
            float extrapolationFactor = 1f - ramp;
            inv[i] = interpolation * (1f - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return new RopeFrequencies(inv, attention);
    }

    private static RopeFrequencies LongRope(double theta, int dim, int maxPositions, RopeScalingParameters s,
        int? configOriginal, int sequenceLength, string ropeType)
    {
        var shortFactor = s.ShortFactor ?? throw new ArgumentException($"rope_scaling.short_factor is required for rope_type '{ropeType}'");
        var longFactor = s.LongFactor ?? throw new ArgumentException($"rope_scaling.long_factor is required for rope_type '{ropeType}'");
        if (shortFactor.Length != dim / 2) throw new ArgumentException($"rope_scaling.short_factor has {shortFactor.Length} values; the rotary dimension {dim} needs {dim / 2}");
        if (longFactor.Length != dim / 2) throw new ArgumentException($"rope_scaling.long_factor has {longFactor.Length} values; the rotary dimension {dim} needs {dim / 2}");
        double? factor = s.Factor;
        int original = maxPositions;
        if (configOriginal is int o)
        {
            if (o <= 0) throw new ArgumentException($"original_max_position_embeddings {o} must be positive");
            original = o;
            factor = (double)maxPositions / o;
        }
        double attention = s.AttentionFactor ?? (Required(factor, "factor", ropeType) is var f && f <= 1.0
            ? 1.0
            : Math.Sqrt(1 + Math.Log(f) / Math.Log(original)));
        var ext = sequenceLength > original ? longFactor : shortFactor;
        var pos = BasePowers((float)theta, dim);
        var inv = new float[pos.Length];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1f / ((float)ext[i] * pos[i]);
        return new RopeFrequencies(inv, attention);
    }
}
