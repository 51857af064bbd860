using DroSharp.Alignment.Objectives;
using DroSharp.Alignment.Training;

namespace DroSharp.Alignment.Tests.Training;

/// <summary>The trainer's collectives over several ranks (threads standing in for MPI processes).</summary>
public sealed class DataParallelGroupTests
{
    [Fact]
    public void StepTotalsAndMetricsWithDifferentNamesPerRankSumToWhatOneProcessMerges()
    {
        // KTO-like: a label seen by one rank only; names in different orders; rank 2 saw nothing but "loss".
        var perRank = new[]
        {
            Metrics(("loss", 0.25, 1), ("rewards/chosen", 0.7, 3), ("logps/chosen", -11.1, 3)),
            Metrics(("rewards/rejected", -0.3, 2), ("loss", 0.5, 1), ("logps/rejected", -12.5, 2)),
            Metrics(("loss", 0.125, 1)),
        };
        var results = ThreadRanks.Run(3, reducer =>
            new DataParallelGroup(reducer).SumTotals(0.1 * (reducer.Rank + 1), 10L * (reducer.Rank + 1), perRank[reducer.Rank]));

        var merged = new ObjectiveMetrics();
        foreach (var m in perRank) merged.Merge(m);
        foreach (var (sum, count, metrics) in results)
        {
            Assert.Equal((0.1 * 1 + 0.1 * 2) + 0.1 * 3, sum); // rank order: (x₀ + x₁) + x₂
            Assert.Equal(60, count);
            Assert.Equal(merged.ExportEntries(), metrics.ExportEntries());
            Assert.Equal(merged.ToDictionary(), metrics.ToDictionary()); // with rewards/margins derived
        }
    }

    [Fact]
    public void AllGatherReturnsEveryRanksValuesInRankOrderIncludingEmptyOnes()
    {
        var results = ThreadRanks.Run(3, reducer =>
            new DataParallelGroup(reducer).AllGather(Enumerable.Range(0, 2 * reducer.Rank).Select(i => reducer.Rank + i / 10.0).ToArray()));
        foreach (var gathered in results)
        {
            Assert.Equal(3, gathered.Length);
            Assert.Empty(gathered[0]);
            Assert.Equal([1.0, 1.1], gathered[1]);
            Assert.Equal([2.0, 2.1, 2.2, 2.3], gathered[2]);
        }
    }

    [Fact]
    public void AStopRequestedOnOneRankStopsEveryRank()
    {
        Assert.All(ThreadRanks.Run(3, r => new DataParallelGroup(r).AnyRank(r.Rank == 2)), Assert.True);
        Assert.All(ThreadRanks.Run(3, r => new DataParallelGroup(r).AnyRank(false)), Assert.False);
    }

    [Fact]
    public void ARankWithOtherFactsThanRankZeroFailsNamingTheFirstDifference()
    {
        var e = Assert.Throws<AggregateException>(() => ThreadRanks.Run(3, reducer =>
        {
            new DataParallelGroup(reducer).RequireAgreement(
                [("options", "lr=1"), ("training data", reducer.Rank == 2 ? "other rows" : "rows"), ("policy weights", reducer.Rank == 2 ? "x" : "w")],
                "read the same files");
            return 0;
        }));
        var only = Assert.Single(e.InnerExceptions);
        Assert.Equal("rank 2: rank 2 of 3 disagrees with rank 0 on the training data: read the same files", only.Message);
        Assert.IsType<TrainingException>(only.InnerException);
    }

    [Fact]
    public void BroadcastGivesEveryRankRankZerosValues()
    {
        var results = ThreadRanks.Run(2, reducer =>
        {
            var v = new[] { reducer.Rank + 0.5, double.NaN, -reducer.Rank };
            new DataParallelGroup(reducer).BroadcastFromRankZero(v);
            return v;
        });
        Assert.All(results, v => Assert.Equal([0.5, double.NaN, 0.0], v));
    }

    private static ObjectiveMetrics Metrics(params (string Name, double Sum, double Weight)[] entries)
    {
        var m = new ObjectiveMetrics();
        foreach (var (name, sum, weight) in entries) m.Add(name, sum, weight);
        return m;
    }
}
