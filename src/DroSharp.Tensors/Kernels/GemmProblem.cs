namespace DroSharp.Tensors.Kernels;

/// <summary>
/// The operands of one C[m,n] (+)= op(A)·op(B), as passed to <see cref="Gemm.Compute"/>. B is float32
/// (<see cref="B"/>) or, for <see cref="Gemm.ComputeBFloat16B"/>, bfloat16 bits (<see cref="BBFloat16"/>,
/// with <see cref="B"/> null), widened to float32 when packed.
/// </summary>
internal readonly unsafe struct GemmProblem(GemmLayout layout, int m, int n, int k,
    float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, ushort* bBFloat16 = null)
{
    public readonly GemmLayout Layout = layout;
    public readonly int M = m, N = n, K = k;
    public readonly float* A = a, B = b, C = c;
    public readonly ushort* BBFloat16 = bBFloat16;
    public readonly nint Lda = lda, Ldb = ldb, Ldc = ldc;
    public readonly bool Accumulate = accumulate;

    /// <summary>Multiply-adds of the product (m·n·k).</summary>
    public long Work => (long)M * N * K;
}
