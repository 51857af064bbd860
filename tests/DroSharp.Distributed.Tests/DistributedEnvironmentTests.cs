using DroSharp.Tensors.Distributed;

namespace DroSharp.Distributed.Tests;

public class DistributedEnvironmentTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return name => map.GetValueOrDefault(name);
    }

    [Fact]
    public void TheLauncherIsReadFromItsEnvironmentVariables()
    {
        Assert.Equal(MpiLauncher.None, DistributedEnvironment.DetectLauncher(Env()));
        Assert.Equal(MpiLauncher.None, DistributedEnvironment.DetectLauncher(Env(("OMPI_COMM_WORLD_SIZE", ""))));
        Assert.Equal(MpiLauncher.OpenMpi, DistributedEnvironment.DetectLauncher(Env(("OMPI_COMM_WORLD_SIZE", "2"), ("PMIX_RANK", "0"))));
        Assert.Equal(MpiLauncher.Pmi, DistributedEnvironment.DetectLauncher(Env(("PMI_SIZE", "2"), ("PMI_RANK", "1"))));
        Assert.Equal(MpiLauncher.Pmi, DistributedEnvironment.DetectLauncher(Env(("PMI_RANK", "0"))));
        Assert.Equal(MpiLauncher.Pmix, DistributedEnvironment.DetectLauncher(Env(("PMIX_RANK", "3"))));
    }

    [Fact]
    public void ThisTestProcessIsNotUnderALauncher() =>
        Assert.Equal(MpiLauncher.None, DistributedEnvironment.DetectLauncher());

    [Fact]
    public void TheLaunchersOwnLibraryIsTriedFirstAndAnExplicitOneAlone()
    {
        Assert.Equal(["libmpi.so.40", "libmpich.so.12", "libmpi.so.12"], DistributedEnvironment.LibraryCandidates(MpiLauncher.OpenMpi, null));
        Assert.Equal(["libmpich.so.12", "libmpi.so.12", "libmpi.so.40"], DistributedEnvironment.LibraryCandidates(MpiLauncher.Pmi, " "));
        Assert.Equal(["/opt/mpi/lib/libmpi.so"], DistributedEnvironment.LibraryCandidates(MpiLauncher.Pmix, "/opt/mpi/lib/libmpi.so"));
    }

    [Fact]
    public void WithoutALauncherTheReducerIsTheLocalOneAndNoMpiIsLoaded()
    {
        var reducer = DistributedEnvironment.Create(new MpiReducerOptions { LibraryPath = "/nonexistent/libmpi.so" }, Env());
        Assert.Same(LocalGradientReducer.Instance, reducer);
        Assert.Same(LocalGradientReducer.Instance, DistributedEnvironment.Create());
    }

    [Fact]
    public void UnderALauncherWithoutALoadableLibraryTheErrorSaysWhatToDo()
    {
        var e = Assert.Throws<MpiException>(() => DistributedEnvironment.Create(
            new MpiReducerOptions(), Env(("OMPI_COMM_WORLD_SIZE", "2"), (DistributedEnvironment.LibraryVariable, "/nonexistent/libmpi.so.40"))));
        Assert.Contains("OMPI_COMM_WORLD_SIZE", e.Message);
        Assert.Contains("/nonexistent/libmpi.so.40: not found or not loadable", e.Message);
        Assert.Contains("apt-get install openmpi-bin", e.Message);
        Assert.Contains(DistributedEnvironment.LibraryVariable, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ALibraryThatIsNotMpiIsRefused()
    {
        // glibc is loadable everywhere these tests run and exports no MPI function.
        var library = MpiLibrary.TryLoad(["libc.so.6"], out string failure);
        Assert.Null(library);
        Assert.Equal("libc.so.6: exports no MPI_Init_thread, not an MPI library", failure);
    }

    [Theory]
    [InlineData("MPICH Version:\t4.0.2\nMPICH Release date: ...", true)]
    [InlineData("Intel(R) MPI Library 2021.10 for Linux* OS", true)]
    [InlineData("MVAPICH2 Version      :\t2.3.7", true)]
    [InlineData("Open MPI v4.1.4, package: Debian OpenMPI", false)]
    public void TheMpichAbiIsRecognisedByItsVersionString(string version, bool mpich) =>
        Assert.Equal(mpich, MpichLibrary.IsMpichAbi(version));

    [Fact]
    public void RunGuardedWithoutMpiIsJustTheBody()
    {
        IGradientReducer local = LocalGradientReducer.Instance;
        Assert.Equal(0, local.RunGuarded(() => 0));
        Assert.Equal(7, local.RunGuarded(() => 7));
        var e = Assert.Throws<InvalidOperationException>(() => local.RunGuarded(() => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", e.Message);
    }

    [Fact]
    public void TheSignalHandlersOfTheRuntimeCanBeSavedAndPutBack()
    {
        var handlers = RuntimeSignalHandlers.Save();
        Assert.NotNull(handlers);
        handlers.Restore();
        string? nothing = null;
        Assert.Throws<NullReferenceException>(() => nothing!.Length);
    }
}
