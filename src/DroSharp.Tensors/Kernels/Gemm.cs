namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Single-precision matrix multiply: C = op(A)·op(B), or C += op(A)·op(B) with <c>accumulate</c>.
/// Leading dimensions are row strides in elements (lda ≥ the stored row length).
/// </summary>
public static unsafe class Gemm
{
    /// <summary>C[m,n] (+)= op(A)·op(B) for one matrix.</summary>
    public static void Compute(GemmLayout layout, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Validate(m, n, k);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
            return;
        }
        GemmReference.Compute(layout, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>
    /// <paramref name="batch"/> independent products; matrix i of each operand starts at
    /// base + i·stride (strides in elements). Used by attention (one product per batch·head).
    /// </summary>
    public static void ComputeBatched(GemmLayout layout, int batch, int m, int n, int k,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float* c, int ldc, long strideC, bool accumulate)
    {
        for (int i = 0; i < batch; i++)
            Compute(layout, m, n, k, a + i * strideA, lda, b + i * strideB, ldb, c + i * strideC, ldc, accumulate);
    }

    private static void Validate(int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative GEMM size m={m} n={n} k={k}");
    }
}
