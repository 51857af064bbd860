namespace DroSharp.Models.Gguf;

/// <summary>
/// Block layout of each <see cref="GgufTensorType"/> (ggml's <c>type_traits</c>): a row of
/// <c>ne[0]</c> elements is <c>ne[0] / BlockSize</c> blocks of <c>BlockBytes</c> bytes each.
/// </summary>
public static class GgufTensorTypes
{
    /// <summary>Elements per block and bytes per block, or false for a type code this library does not know.</summary>
    public static bool TryGetLayout(GgufTensorType type, out int blockSize, out int blockBytes)
    {
        (blockSize, blockBytes) = type switch
        {
            GgufTensorType.F32 => (1, 4),
            GgufTensorType.F16 => (1, 2),
            GgufTensorType.Q4_0 => (32, 18),   // f16 d, 16 bytes of nibbles
            GgufTensorType.Q4_1 => (32, 20),   // f16 d, f16 m, 16 bytes
            GgufTensorType.Q5_0 => (32, 22),   // f16 d, u32 high bits, 16 bytes
            GgufTensorType.Q5_1 => (32, 24),   // f16 d, f16 m, u32, 16 bytes
            GgufTensorType.Q8_0 => (32, 34),   // f16 d, 32 × i8
            GgufTensorType.Q8_1 => (32, 36),   // f16 d, f16 s, 32 × i8
            GgufTensorType.Q2_K => (256, 84),
            GgufTensorType.Q3_K => (256, 110),
            GgufTensorType.Q4_K => (256, 144),
            GgufTensorType.Q5_K => (256, 176),
            GgufTensorType.Q6_K => (256, 210),
            GgufTensorType.Q8_K => (256, 292),
            GgufTensorType.IQ2_XXS => (256, 66),
            GgufTensorType.IQ2_XS => (256, 74),
            GgufTensorType.IQ3_XXS => (256, 98),
            GgufTensorType.IQ1_S => (256, 50),
            GgufTensorType.IQ4_NL => (32, 18),
            GgufTensorType.IQ3_S => (256, 110),
            GgufTensorType.IQ2_S => (256, 82),
            GgufTensorType.IQ4_XS => (256, 136),
            GgufTensorType.I8 => (1, 1),
            GgufTensorType.I16 => (1, 2),
            GgufTensorType.I32 => (1, 4),
            GgufTensorType.I64 => (1, 8),
            GgufTensorType.F64 => (1, 8),
            GgufTensorType.IQ1_M => (256, 56),
            GgufTensorType.BF16 => (1, 2),
            GgufTensorType.TQ1_0 => (256, 54),
            GgufTensorType.TQ2_0 => (256, 66),
            GgufTensorType.MXFP4 => (32, 17),
            _ => (0, 0),
        };
        return blockSize > 0;
    }

    /// <summary>True for the types <see cref="GgufWriter"/> can encode from float32 and <see cref="GgufReader"/> can decode.</summary>
    public static bool IsFloatCodec(GgufTensorType type) =>
        type is GgufTensorType.F32 or GgufTensorType.F16 or GgufTensorType.BF16 or GgufTensorType.Q8_0;

    /// <summary>ggml's name of the type (<c>ggml_type_name</c>): "f32", "q8_0", …; "type N" for an unknown code.</summary>
    public static string Name(GgufTensorType type) =>
        Enum.IsDefined(type) ? type.ToString().ToLowerInvariant() : $"type {(uint)type}";

    /// <summary>
    /// Bytes of a tensor of <paramref name="elementCount"/> elements whose rows have <paramref name="rowLength"/>
    /// elements; throws when the row is not whole blocks or the size overflows.
    /// </summary>
    public static long ByteLength(GgufTensorType type, long rowLength, long elementCount)
    {
        if (!TryGetLayout(type, out int block, out int bytes))
            throw new ArgumentException($"unknown tensor type {(uint)type}", nameof(type));
        if (rowLength % block != 0)
            throw new ArgumentException($"a row of {rowLength} elements is not a whole number of {Name(type)} blocks of {block}");
        return checked(elementCount / block * bytes);
    }
}
