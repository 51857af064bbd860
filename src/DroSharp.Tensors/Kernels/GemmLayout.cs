namespace DroSharp.Tensors.Kernels;

/// <summary>
/// Which operands of C[m,n] = op(A)·op(B) are transposed. Storage is row-major:
/// <list type="bullet">
/// <item><see cref="NN"/>: A is [m,k], B is [k,n] — Linear backward for dX = dY·W.</item>
/// <item><see cref="NT"/>: A is [m,k], B is [n,k] — Linear forward, y = x·Wᵀ with W [out,in].</item>
/// <item><see cref="TN"/>: A is [k,m], B is [k,n] — Linear backward for dW = dYᵀ·X.</item>
/// </list>
/// </summary>
public enum GemmLayout
{
    NN,
    NT,
    TN,
}
