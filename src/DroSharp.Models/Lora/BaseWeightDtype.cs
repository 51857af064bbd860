namespace DroSharp.Models.Lora;

/// <summary>How a frozen base's Linear weights are stored (embeddings, norms and heads stay float32).</summary>
public enum BaseWeightDtype
{
    /// <summary>float32, as loaded.</summary>
    Float32,

    /// <summary>bfloat16 (<see cref="Tensors.BFloat16Matrix"/>): half the memory and bandwidth, widened inside the GEMM.</summary>
    BFloat16,
}
