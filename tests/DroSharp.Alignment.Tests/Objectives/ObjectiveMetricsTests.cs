using DroSharp.Alignment.Objectives;

namespace DroSharp.Alignment.Tests.Objectives;

public class ObjectiveMetricsTests
{
    [Fact]
    public void MergingMicroBatchesAveragesPerExampleAndPerBatch()
    {
        var kto = new KtoObjective(0.5);
        ObjectiveBatch Batch(double[] ratios, bool[] labels, double mismatched) => new()
        {
            PolicyLogProbs = ratios, ReferenceLogProbs = new double[ratios.Length], Labels = labels,
            MismatchedPolicyLogProbs = Enumerable.Repeat(mismatched, ratios.Length).ToArray(), MismatchedReferenceLogProbs = new double[ratios.Length],
        };
        var a = kto.Compute(Batch([1.0, 2.0, -1.0], [true, true, false], 0.2));
        var b = kto.Compute(Batch([4.0, -3.0], [true, false], 0.6));
        var all = new ObjectiveMetrics();
        all.Merge(a.Metrics);
        all.Merge(b.Metrics);
        Assert.Equal(0.5 * (1.0 + 2.0 + 4.0) / 3, all["rewards/chosen"], 1e-15);   // over the 3 chosen rows
        Assert.Equal(0.5 * (-1.0 + -3.0) / 2, all["rewards/rejected"], 1e-15);
        Assert.Equal(all["rewards/chosen"] - all["rewards/rejected"], all["rewards/margins"], 1e-15);
        Assert.Equal((0.2 + 0.6) / 2, all["kl"], 1e-15);                              // per micro-batch
        Assert.Equal((a.Loss + b.Loss) / 2, all["loss"], 1e-15);
        var d = all.ToDictionary();
        Assert.Equal(["kl", "logps/chosen", "logps/rejected", "loss", "rewards/chosen", "rewards/margins", "rewards/rejected"], d.Keys);
    }

    [Fact]
    public void MarginsNeedBothSides()
    {
        var m = new ObjectiveMetrics();
        m.Add("rewards/chosen", 1.0);
        Assert.False(m.Contains(ObjectiveMetrics.Margins));
        Assert.DoesNotContain(ObjectiveMetrics.Margins, m.ToDictionary().Keys);
        Assert.Throws<ArgumentException>(() => m.Add(ObjectiveMetrics.Margins, 1.0));
        Assert.Throws<KeyNotFoundException>(() => m["kl"]);
    }
}
