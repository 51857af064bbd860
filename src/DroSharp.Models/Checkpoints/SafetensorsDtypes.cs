namespace DroSharp.Models.Checkpoints;

/// <summary>Sizes and header tokens of <see cref="SafetensorsDtype"/>.</summary>
public static class SafetensorsDtypes
{
    /// <summary>Bits per element (F4 is 4, F6_* are 6; everything else a whole number of bytes).</summary>
    public static int BitSize(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F4 => 4,
        SafetensorsDtype.F6_E2M3 or SafetensorsDtype.F6_E3M2 => 6,
        SafetensorsDtype.BOOL or SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.F8_E5M2
            or SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E8M0 or SafetensorsDtype.F8_E4M3FNUZ
            or SafetensorsDtype.F8_E5M2FNUZ => 8,
        SafetensorsDtype.I16 or SafetensorsDtype.U16 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 => 16,
        SafetensorsDtype.I32 or SafetensorsDtype.U32 or SafetensorsDtype.F32 => 32,
        SafetensorsDtype.C64 or SafetensorsDtype.F64 or SafetensorsDtype.I64 or SafetensorsDtype.U64 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The header token, e.g. <c>"BF16"</c>.</summary>
    public static string Token(this SafetensorsDtype dtype) =>
        Enum.IsDefined(dtype) ? dtype.ToString() : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype");

    /// <summary>Parses a header token; exact and case-sensitive like the reference.</summary>
    public static bool TryParse(string token, out SafetensorsDtype dtype)
    {
        // Enum.TryParse would accept numbers ("3") and other casings; the format does not.
        foreach (var d in Enum.GetValues<SafetensorsDtype>())
        {
            if (string.Equals(d.ToString(), token, StringComparison.Ordinal))
            {
                dtype = d;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>True for the dtypes read into float32 tensors: F32, F16, BF16, F64.</summary>
    public static bool IsReadableAsFloat32(this SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.F32 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 or SafetensorsDtype.F64;

    /// <summary>True for the dtypes read into 64-bit integers: BOOL, U8, I8, I16, U16, I32, U32, I64, U64.</summary>
    public static bool IsReadableAsInt64(this SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.BOOL or SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.I16
            or SafetensorsDtype.U16 or SafetensorsDtype.I32 or SafetensorsDtype.U32 or SafetensorsDtype.I64
            or SafetensorsDtype.U64;
}
