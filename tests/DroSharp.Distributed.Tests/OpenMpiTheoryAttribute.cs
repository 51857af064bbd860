namespace DroSharp.Distributed.Tests;

/// <summary>The <see cref="TheoryAttribute"/> form of <see cref="OpenMpiFactAttribute"/>.</summary>
public sealed class OpenMpiTheoryAttribute : TheoryAttribute
{
    public OpenMpiTheoryAttribute()
    {
        if (MpiRun.OpenMpiLauncher is null && MpiRun.MpiIsOptional)
            Skip = $"mpirun not found and {MpiRun.OptionalVariable}=optional (install openmpi-bin to run the MPI tests)";
    }
}
