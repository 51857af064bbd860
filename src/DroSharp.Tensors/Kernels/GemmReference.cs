namespace DroSharp.Tensors.Kernels;

/// <summary>
/// The straightforward triple loop (double accumulation), the yardstick the fast GEMM is tested
/// against. Not for production use.
/// </summary>
public static unsafe class GemmReference
{
    public static void Compute(GemmLayout layout, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int p = 0; p < k; p++)
            {
                float av = layout == GemmLayout.TN ? a[(long)p * lda + i] : a[(long)i * lda + p];
                float bv = layout == GemmLayout.NT ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                s += (double)av * bv;
            }
            float* cij = c + (long)i * ldc + j;
            *cij = accumulate ? *cij + (float)s : (float)s;
        }
    }
}
