namespace DroSharp.Distributed;

/// <summary>The process launcher this process runs under, as told by its environment variables.</summary>
public enum MpiLauncher
{
    /// <summary>No MPI launcher: a plain process (one rank, no MPI library needed).</summary>
    None,

    /// <summary>Open MPI's <c>mpirun</c>/<c>mpiexec</c> (OMPI_COMM_WORLD_SIZE is set).</summary>
    OpenMpi,

    /// <summary>MPICH's Hydra <c>mpiexec</c>, Intel MPI, or Slurm's PMI-2 (PMI_SIZE or PMI_RANK is set).</summary>
    Pmi,

    /// <summary>A PMIx launcher such as <c>srun --mpi=pmix</c> or <c>prterun</c> (PMIX_RANK is set).</summary>
    Pmix,
}
