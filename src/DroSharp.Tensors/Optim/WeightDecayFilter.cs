namespace DroSharp.Tensors.Optim;

/// <summary>Which parameters weight decay applies to.</summary>
public static class WeightDecayFilter
{
    /// <summary>
    /// The Hugging Face Trainer's rule (<c>Trainer.get_decay_parameter_names</c>): no decay for
    /// parameters of normalisation layers or whose name contains "bias" (case-insensitive; this
    /// includes T5's <c>relative_attention_bias.weight</c>). Normalisation layers are recognised by
    /// name, "layer_norm", "layernorm" or "rmsnorm", which covers T5's <c>layer_norm.weight</c> and
    /// <c>final_layer_norm.weight</c> (T5LayerNorm is in HF's ALL_LAYERNORM_LAYERS).
    /// </summary>
    public static bool HuggingFaceTrainer(Tensor parameter)
    {
        string name = parameter.Name ?? "";
        return !(name.Contains("bias", StringComparison.OrdinalIgnoreCase)
                 || name.Contains("layer_norm", StringComparison.OrdinalIgnoreCase)
                 || name.Contains("layernorm", StringComparison.OrdinalIgnoreCase)
                 || name.Contains("rmsnorm", StringComparison.OrdinalIgnoreCase));
    }
}
