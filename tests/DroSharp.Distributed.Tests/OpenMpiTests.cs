using System.Text.RegularExpressions;

namespace DroSharp.Distributed.Tests;

/// <summary>
/// The reducer across real processes: Open MPI's mpirun launches the probe program, which checks
/// its results on every rank (sums bit for bit against the rank-ordered sum each rank computes
/// from every rank's seeded data) and prints a hash of them. One mpirun at a time (one collection).
/// </summary>
[Collection("mpirun")]
public class OpenMpiTests
{
    [OpenMpiFact]
    public void EveryRankLoadsOpenMpiAndSeesTheWorld()
    {
        var run = MpiRun.OpenMpi(2, "info");
        Assert.True(run.ExitCode == 0, run.ToString());
        for (int r = 0; r < 2; r++)
            Assert.Contains($"rank {r}: abi=Open MPI size=2 thread=2 library=libmpi.so.40", run.StandardOutput);
    }

    [OpenMpiFact]
    public void RankOrderedSumsAreExactAndTheSameOnEveryRankInEveryRunForAnyChunkSize()
    {
        // Three ranks: the order of additions shows in the bits. Chunks of 5 cut every length but 1..3.
        const string lengths = "1,2,3,7,64,1001";
        var small = MpiRun.OpenMpi(3, "sum", "RankOrdered", "5", lengths);
        var again = MpiRun.OpenMpi(3, "sum", "RankOrdered", "5", lengths);
        var whole = MpiRun.OpenMpi(3, "sum", "RankOrdered", "4194304", lengths);
        string hash = SingleHash(small, "sum", 3);
        Assert.Equal(hash, SingleHash(again, "sum", 3));
        Assert.Equal(hash, SingleHash(whole, "sum", 3));
    }

    [OpenMpiFact]
    public void LibrarySumsAreWithinRoundingAndForTwoRanksEqualTheRankOrderedBits()
    {
        const string lengths = "1,5,33,1001";
        var library = MpiRun.OpenMpi(2, "sum", "Library", "7", lengths);
        var ordered = MpiRun.OpenMpi(2, "sum", "RankOrdered", "7", lengths);
        // x₀ + x₁ = x₁ + x₀ exactly: with two ranks every summation order gives the same bits.
        Assert.Equal(SingleHash(ordered, "sum", 2), SingleHash(library, "sum", 2));
    }

    [OpenMpiFact]
    public void BroadcastHandsRankZerosBytesToEveryRankInChunks()
    {
        var run = MpiRun.OpenMpi(3, "bcast", "1001", "64");
        SingleHash(run, "bcast", 3);
    }

    [OpenMpiFact]
    public void NoRankPassesTheBarrierBeforeEveryRankHasArrived()
    {
        using (var temp = new TempDirectory("drosharp-barrier-"))
        {
            string dir = temp.Path;
            var run = MpiRun.OpenMpi(3, "barrier", dir);
            Assert.True(run.ExitCode == 0, run.ToString());
            for (int r = 0; r < 3; r++) Assert.Contains($"rank {r}: barrier ok", run.StandardOutput);
        }
    }

    [OpenMpiFact]
    public void GradientsAreSummedAcrossRanksThroughBuckets()
    {
        var run = MpiRun.OpenMpi(3, "grads", "64");
        SingleHash(run, "grads", 3);
    }

    [OpenMpiFact]
    public void NullReferenceExceptionsStayCatchableAfterMpiInit()
    {
        var run = MpiRun.OpenMpi(2, "nullref");
        Assert.True(run.ExitCode == 0, run.ToString());
        for (int r = 0; r < 2; r++) Assert.Contains($"rank {r}: nullref ok", run.StandardOutput);
    }

    [OpenMpiTheory]
    [InlineData(1)]
    [InlineData(0)]
    public void ARankThatThrowsEndsTheWholeJobWithItsMessageAndExitCode(int failingRank)
    {
        // The other rank waits in a barrier the failing rank never reaches: without MPI_Abort it would hang.
        var run = MpiRun.OpenMpi(2, "fail", failingRank.ToString(), "the shard cannot be read");
        Assert.False(run.TimedOut, run.ToString());
        Assert.Equal(3, run.ExitCode);
        Assert.Contains($"[rank {failingRank} of 2] probe: the shard cannot be read", run.StandardError);
        Assert.DoesNotContain("passed a barrier", run.StandardOutput);
    }

    [OpenMpiFact]
    public void ARankReturningNonZeroEndsTheWholeJobWithThatCode()
    {
        var run = MpiRun.OpenMpi(2, "exitcode", "1", "5");
        Assert.False(run.TimedOut, run.ToString());
        Assert.Equal(5, run.ExitCode);
        Assert.Contains("[rank 1 of 2] exited with code 5", run.StandardError);
    }

    [OpenMpiFact]
    public void AnUnhandledExceptionOnAnyThreadEndsTheWholeJob()
    {
        var run = MpiRun.OpenMpi(2, "unhandled", "1");
        Assert.False(run.TimedOut, run.ToString());
        Assert.Equal(MpiGradientReducer.UnhandledExceptionExitCode, run.ExitCode);
        Assert.Contains("[rank 1 of 2] unhandled exception: System.InvalidOperationException: thrown on a worker thread", run.StandardError);
    }

    [OpenMpiFact]
    public void UnderMpirunWithoutALoadableLibraryEveryRankSaysWhyAndTheJobFails()
    {
        var run = MpiRun.OpenMpiWithEnvironment(2,
            new Dictionary<string, string> { [DistributedEnvironment.LibraryVariable] = "/nonexistent/libmpi.so.40" }, "info");
        Assert.False(run.TimedOut, run.ToString());
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("probe: running under an MPI launcher (Open MPI: OMPI_COMM_WORLD_SIZE is set) but no MPI library could be loaded " +
            "(/nonexistent/libmpi.so.40: not found or not loadable)", run.StandardError);
    }

    /// <summary>Every rank printed "rank r: KIND ok hash=H" with the same H; returns H.</summary>
    internal static string SingleHash(MpiRunResult run, string kind, int ranks)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        var hashes = new string[ranks];
        for (int r = 0; r < ranks; r++)
        {
            var m = Regex.Match(run.StandardOutput, $@"rank {r}: {kind} ok hash=([0-9a-f]{{16}})");
            Assert.True(m.Success, $"rank {r} did not report '{kind} ok'\n{run}");
            hashes[r] = m.Groups[1].Value;
        }
        Assert.All(hashes, h => Assert.Equal(hashes[0], h));
        return hashes[0];
    }
}
