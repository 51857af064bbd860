namespace DroSharp.Distributed.Tests;

/// <summary>
/// A test that launches the probe under Open MPI's mpirun. It runs (and fails with a clear message
/// when mpirun is missing) unless DROSHARP_MPI_TESTS=optional, which turns a missing mpirun into a skip.
/// </summary>
public sealed class OpenMpiFactAttribute : FactAttribute
{
    public OpenMpiFactAttribute()
    {
        if (MpiRun.OpenMpiLauncher is null && MpiRun.MpiIsOptional)
            Skip = $"mpirun not found and {MpiRun.OptionalVariable}=optional (install openmpi-bin to run the MPI tests)";
    }
}
