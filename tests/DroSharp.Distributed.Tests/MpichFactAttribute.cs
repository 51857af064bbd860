namespace DroSharp.Distributed.Tests;

/// <summary>A test under MPICH's launcher, skipped when MPICH is not installed (CI installs Open MPI only).</summary>
public sealed class MpichFactAttribute : FactAttribute
{
    public MpichFactAttribute()
    {
        if (MpiRun.MpichLauncher is null) Skip = "MPICH not installed (apt-get install -y mpich to run the MPICH tests)";
    }
}
