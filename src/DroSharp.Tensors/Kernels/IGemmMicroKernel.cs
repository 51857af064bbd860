namespace DroSharp.Tensors.Kernels;

/// <summary>
/// A register-blocked GEMM micro-kernel: one MR×NR tile of C from an A micro-panel and a B
/// micro-panel packed by <see cref="GemmPacking"/>. Implemented by structs so that the driver
/// (<see cref="GemmDriver"/>) is specialised per kernel by the JIT.
/// </summary>
internal unsafe interface IGemmMicroKernel
{
    /// <summary>Rows of the C tile (broadcast elements of A per k step).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the C tile (vector elements of B per k step).</summary>
    static abstract int NR { get; }

    /// <summary>The SIMD level the kernel belongs to; the packing uses vectors up to that width (none for scalar).</summary>
    static abstract SimdLevel Level { get; }

    /// <summary>
    /// C[MR,NR] (+)= Σ_p a[p,0..MR)ᵀ ⊗ b[p,0..NR) for p in [0,kc), summed in increasing p.
    /// a: packed [kc, MR]; b: packed [kc, NR] (64-byte aligned); c: full tile with row stride ldc.
    /// With <paramref name="add"/> false the tile is overwritten.
    /// </summary>
    static abstract void Run(int kc, float* a, float* b, float* c, nint ldc, bool add);
}
