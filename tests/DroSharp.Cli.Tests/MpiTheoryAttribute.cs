namespace DroSharp.Cli.Tests;

/// <summary>The theory form of <see cref="MpiFactAttribute"/>.</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute()
    {
        if (DroProcess.MpiRun is null && DroProcess.MpiIsOptional)
            Skip = $"mpirun not found and {DroProcess.OptionalVariable}=optional (install openmpi-bin to run the MPI tests)";
    }
}
