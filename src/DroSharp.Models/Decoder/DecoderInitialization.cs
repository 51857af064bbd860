using DroSharp.Tensors;

namespace DroSharp.Models.Decoder;

/// <summary>
/// transformers 4.55's <c>PreTrainedModel._init_weights</c> for these models: Linear weights and
/// embeddings N(0, initializer_range), biases 0, the padding row of the embedding 0, every RMSNorm
/// weight 1 (Gemma's (1 + w) norms included, as the generic rule does). Drawn in parameter order.
/// </summary>
public static class DecoderInitialization
{
    public static void Initialize(ParameterSet parameters, DecoderConfig c, DeterministicRandom rng)
    {
        foreach (var p in parameters.All)
        {
            string name = p.Name!;
            if (p.Shape.Rank == 1)
            {
                // norms (…norm.weight, q_norm/k_norm) start at 1; biases at 0
                if (name.EndsWith("norm.weight", StringComparison.Ordinal) || name.EndsWith("layernorm.weight", StringComparison.Ordinal)) p.Fill(1f);
                else p.Clear();
                continue;
            }
            var span = p.Span;
            for (int i = 0; i < span.Length; i++) span[i] = (float)(rng.NextGaussian() * c.InitializerRange);
            if (name.EndsWith("embed_tokens.weight", StringComparison.Ordinal) && c.PadTokenId is int pad)
                span.Slice(pad * c.HiddenSize, c.HiddenSize).Clear();
        }
    }
}
