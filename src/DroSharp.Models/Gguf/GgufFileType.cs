namespace DroSharp.Models.Gguf;

/// <summary>
/// What an export stores its weight matrices as; the value is llama.cpp's <c>llama_ftype</c>, written as
/// <c>general.file_type</c>. One-dimensional tensors (norms, biases, RoPE factors) are always F32, as
/// convert_hf_to_gguf.py writes them; with Q8_0, a matrix whose rows are not a multiple of 32 falls back to F16.
/// </summary>
public enum GgufFileType
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 7,
    BF16 = 32,
}
