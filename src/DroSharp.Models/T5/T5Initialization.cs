using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// HF <c>T5PreTrainedModel._init_weights</c> with factor = initializer_factor: embeddings and
/// lm_head N(0, f); q N(0, f·(d·d_kv)^-½); k, v, wi, wi_0, wi_1, relative bias N(0, f·d^-½);
/// o N(0, f·(h·d_kv)^-½); wo N(0, f·d_ff^-½); layer norms 1; value_head N(0, f·d^-½), bias 0.
/// Drawn in parameter order from a seeded generator, so a seed gives the same model everywhere.
/// </summary>
public static class T5Initialization
{
    public static double StdFor(string name, T5Config cfg)
    {
        double f = cfg.InitializerFactor;
        double d = cfg.DModel;
        if (name is "shared.weight" or "lm_head.weight" || name.EndsWith("embed_tokens.weight", StringComparison.Ordinal)) return f;
        if (name.EndsWith(".q.weight", StringComparison.Ordinal)) return f * Math.Pow(d * cfg.DKv, -0.5);
        if (name.EndsWith(".o.weight", StringComparison.Ordinal)) return f * Math.Pow(cfg.NumHeads * cfg.DKv, -0.5);
        if (name.EndsWith(".wo.weight", StringComparison.Ordinal)) return f * Math.Pow(cfg.DFf, -0.5);
        if (name.EndsWith(".k.weight", StringComparison.Ordinal) || name.EndsWith(".v.weight", StringComparison.Ordinal)
            || name.EndsWith("relative_attention_bias.weight", StringComparison.Ordinal)
            || name.EndsWith(".wi.weight", StringComparison.Ordinal) || name.EndsWith(".wi_0.weight", StringComparison.Ordinal)
            || name.EndsWith(".wi_1.weight", StringComparison.Ordinal) || name == "value_head.weight")
            return f * Math.Pow(d, -0.5);
        throw new ArgumentException($"no initialisation rule for parameter {name}");
    }

    public static void Initialize(ParameterSet parameters, T5Config cfg, DeterministicRandom rng)
    {
        foreach (var p in parameters.All)
        {
            string name = p.Name!;
            if (name.EndsWith("layer_norm.weight", StringComparison.Ordinal)) { p.Fill(1f); continue; }
            if (name == "value_head.bias") { p.Clear(); continue; }
            double std = StdFor(name, cfg);
            var span = p.Span;
            for (int i = 0; i < span.Length; i++) span[i] = (float)(rng.NextGaussian() * std);
        }
    }
}
