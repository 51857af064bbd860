namespace DroSharp.Distributed;

/// <summary>Settings of <see cref="MpiGradientReducer"/>; the defaults suit training.</summary>
public sealed record MpiReducerOptions
{
    /// <summary>4 Mi elements: 16 MiB of float per MPI call.</summary>
    public const int DefaultChunkElements = 1 << 22;

    /// <summary>How float and double buffers are summed; see <see cref="MpiSummation"/>.</summary>
    public MpiSummation Summation { get; init; } = MpiSummation.RankOrdered;

    /// <summary>
    /// Most elements (bytes for <see cref="MpiGradientReducer.Broadcast"/>) in one MPI call. Keeps
    /// counts in int and bounds the scratch buffer of <see cref="MpiSummation.RankOrdered"/>
    /// (≈ one chunk). The result does not depend on it.
    /// </summary>
    public int ChunkElements { get; init; } = DefaultChunkElements;

    /// <summary>
    /// The MPI shared library to load (a name dlopen can find, or a path). Null: the
    /// <c>DROSHARP_MPI_LIBRARY</c> environment variable, else the launcher's usual library
    /// (<c>libmpi.so.40</c> under Open MPI, <c>libmpich.so.12</c> / <c>libmpi.so.12</c> under PMI).
    /// </summary>
    public string? LibraryPath { get; init; }
}
