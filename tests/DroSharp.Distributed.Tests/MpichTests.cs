namespace DroSharp.Distributed.Tests;

/// <summary>The same probe under MPICH (integer handles, MPI_IN_PLACE = −1, UCX's signal handlers).</summary>
[Collection("mpirun")]
public class MpichTests
{
    [MpichFact]
    public void EveryRankLoadsMpich()
    {
        var run = MpiRun.Mpich(2, "info");
        Assert.True(run.ExitCode == 0, run.ToString());
        for (int r = 0; r < 2; r++) Assert.Contains($"rank {r}: abi=MPICH size=2", run.StandardOutput);
    }

    [MpichFact]
    public void RankOrderedSumsGiveTheSameBitsAsUnderOpenMpi()
    {
        const string lengths = "1,2,3,7,64,1001";
        string mpich = OpenMpiTests.SingleHash(MpiRun.Mpich(3, "sum", "RankOrdered", "5", lengths), "sum", 3);
        string library = OpenMpiTests.SingleHash(MpiRun.Mpich(3, "sum", "Library", "5", lengths), "sum", 3);
        Assert.Equal(16, library.Length);
        if (MpiRun.OpenMpiLauncher is not null)
            Assert.Equal(OpenMpiTests.SingleHash(MpiRun.OpenMpi(3, "sum", "RankOrdered", "5", lengths), "sum", 3), mpich);
    }

    [MpichFact]
    public void GradientsBroadcastAndNullReferencesWork()
    {
        OpenMpiTests.SingleHash(MpiRun.Mpich(3, "grads", "64"), "grads", 3);
        OpenMpiTests.SingleHash(MpiRun.Mpich(2, "bcast", "1001", "64"), "bcast", 2);
        var run = MpiRun.Mpich(2, "nullref");
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [MpichFact]
    public void ARankThatThrowsEndsTheWholeJob()
    {
        var run = MpiRun.Mpich(2, "fail", "1", "the shard cannot be read");
        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.True(run.StandardError.Contains("[rank 1 of 2] probe: the shard cannot be read"), run.ToString());
    }
}
