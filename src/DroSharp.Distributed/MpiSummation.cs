namespace DroSharp.Distributed;

/// <summary>How <see cref="MpiGradientReducer"/> sums float and double buffers across ranks.</summary>
public enum MpiSummation
{
    /// <summary>
    /// result[i] = ((x₀[i] + x₁[i]) + x₂[i]) + … + x_{N−1}[i] in the element type, ranks in order,
    /// whatever the MPI library, the network or the chunk size: each rank receives every rank's copy
    /// of its 1/N block (MPI_Alltoallv), adds them in rank order, and the summed blocks are gathered
    /// back (MPI_Allgatherv). It moves 2(N−1)/N of the buffer per rank, as a ring all-reduce does,
    /// and every rank ends with the same bits. The default.
    /// </summary>
    RankOrdered,

    /// <summary>
    /// MPI_Allreduce(MPI_IN_PLACE, …, MPI_SUM): the library picks the algorithm (and may use
    /// hardware offload). Open MPI's choice is fixed for a fixed rank count, message size and
    /// placement, but the MPI standard only recommends, not requires, a fixed order and equal
    /// results on every rank. Bit-identical for 2 ranks (x₀ + x₁ = x₁ + x₀ exactly).
    /// </summary>
    Library,
}
