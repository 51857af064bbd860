using System.Numerics;
using System.Numerics.Tensors;

namespace DroSharp.Distributed;

/// <summary>The local half of <see cref="MpiSummation.RankOrdered"/>: adding the ranks' copies of one block.</summary>
internal static class RankOrderedSum
{
    /// <summary>
    /// <paramref name="blocks"/> holds <paramref name="ranks"/> runs of destination.Length elements,
    /// rank 0's first; destination[k] = ((b₀[k] + b₁[k]) + b₂[k]) + … + b_{R−1}[k], each addition
    /// rounded to T (element-wise IEEE additions: the same bits whatever the SIMD width).
    /// </summary>
    public static void Add<T>(ReadOnlySpan<T> blocks, int ranks, Span<T> destination)
        where T : unmanaged, IAdditionOperators<T, T, T>, IAdditiveIdentity<T, T>
    {
        int m = destination.Length;
        if (ranks < 1 || blocks.Length < (long)ranks * m)
            throw new ArgumentException($"{blocks.Length} elements cannot hold {ranks} blocks of {m}");
        blocks[..m].CopyTo(destination);
        for (int r = 1; r < ranks; r++)
            TensorPrimitives.Add(destination, blocks.Slice(r * m, m), destination);
    }
}
