namespace DroSharp.Tensors.Distributed;

/// <summary>
/// The data-parallel seam of the trainer: called between gradient accumulation and clipping (and
/// for the few scalars every rank must agree on: loss sums, token counts, metric sums). In one
/// process it is <see cref="LocalGradientReducer"/> and does nothing; under <c>mpirun</c> it is an
/// <c>MPI_Allreduce</c> (DroSharp.Distributed). Every rank calls every method in the same order
/// with the same lengths; the result is the same on every rank and, for a fixed number of ranks,
/// the same run to run (the order of summation is fixed).
/// </summary>
public interface IGradientReducer : IDisposable
{
    /// <summary>This process's rank, 0 … <see cref="WorldSize"/> − 1. Rank 0 alone writes files.</summary>
    int Rank { get; }

    /// <summary>Number of processes taking part (1 without MPI).</summary>
    int WorldSize { get; }

    /// <summary>values ← Σ over ranks of values, element-wise, in place.</summary>
    void SumInPlace(Span<float> values);

    /// <summary>values ← Σ over ranks of values, element-wise, in place.</summary>
    void SumInPlace(Span<double> values);

    /// <summary>Every rank's <paramref name="values"/> become rank 0's.</summary>
    void Broadcast(Span<byte> values);

    /// <summary>Waits until every rank has arrived.</summary>
    void Barrier();

    /// <summary>
    /// Ends the whole job at once after a failure on this rank (MPI_Abort): the message goes to
    /// stderr first; never returns under MPI. In one process it returns and the caller exits normally.
    /// </summary>
    void Abort(int exitCode, string message);
}
