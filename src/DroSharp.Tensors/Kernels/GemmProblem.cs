namespace DroSharp.Tensors.Kernels;

/// <summary>The operands of one C[m,n] (+)= op(A)·op(B), as passed to <see cref="Gemm.Compute"/>.</summary>
internal readonly unsafe struct GemmProblem(GemmLayout layout, int m, int n, int k,
    float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
{
    public readonly GemmLayout Layout = layout;
    public readonly int M = m, N = n, K = k;
    public readonly float* A = a, B = b, C = c;
    public readonly nint Lda = lda, Ldb = ldb, Ldc = ldc;
    public readonly bool Accumulate = accumulate;

    /// <summary>Multiply-adds of the product (m·n·k).</summary>
    public long Work => (long)M * N * K;
}
