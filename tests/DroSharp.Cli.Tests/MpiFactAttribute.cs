namespace DroSharp.Cli.Tests;

/// <summary>
/// A test that launches dro under Open MPI's mpirun. It runs (and fails with a clear message when
/// mpirun is missing) unless DROSHARP_MPI_TESTS=optional, which turns a missing mpirun into a skip.
/// </summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (DroProcess.MpiRun is null && DroProcess.MpiIsOptional)
            Skip = $"mpirun not found and {DroProcess.OptionalVariable}=optional (install openmpi-bin to run the MPI tests)";
    }
}
