namespace DroSharp.Distributed;

/// <summary>
/// The fixed cuts of a buffer: into chunks of at most a given length (one MPI call each, so every
/// count fits in an int), and of one chunk into one contiguous block per rank. Both depend only on
/// the lengths and the rank count, so every rank cuts alike.
/// </summary>
internal static class BlockSplit
{
    /// <summary>⌈length / chunk⌉ (0 for an empty buffer).</summary>
    public static long ChunkCount(long length, int chunk)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        return (length + chunk - 1) / chunk;
    }

    /// <summary>
    /// Block j of n elements over counts.Length ranks: counts[j] = ⌊n/R⌋ + (j &lt; n mod R ? 1 : 0),
    /// displs[j] = Σ_{i&lt;j} counts[i]; blocks are contiguous, in rank order, and cover [0, n).
    /// </summary>
    public static void Blocks(int n, Span<int> counts, Span<int> displs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        int ranks = counts.Length;
        if (ranks < 1 || displs.Length != ranks) throw new ArgumentException("one count and one displacement per rank");
        int basic = n / ranks, extra = n % ranks, offset = 0;
        for (int j = 0; j < ranks; j++)
        {
            counts[j] = basic + (j < extra ? 1 : 0);
            displs[j] = offset;
            offset += counts[j];
        }
    }
}
