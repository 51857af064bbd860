using DroSharp.Alignment.Objectives;

namespace DroSharp.Alignment.Tests.Objectives;

public class ObjectiveFactoryTests
{
    [Fact]
    public void EveryNameBuildsItsObjectiveWithItsRequirements()
    {
        foreach (string name in ObjectiveFactory.Names)
            Assert.Equal(name, ObjectiveFactory.Create(name).Name);
        var drov = Assert.IsType<DroVObjective>(ObjectiveFactory.Create("dro-v", new ObjectiveOptions { Tau = 2, ValueMode = DroValueMode.Single }));
        Assert.Equal(2, drov.Tau);
        Assert.True(drov.Requirements.NeedsValueNetwork);
        Assert.Equal(DroValueMode.Single, drov.Requirements.ValueMode);
        var kto = Assert.IsType<KtoObjective>(ObjectiveFactory.Create("kto"));
        Assert.Equal(0.1, kto.Beta);
        Assert.True(kto.Requirements.PairsInsideMicroBatch);
        Assert.True(ObjectiveFactory.Create("dpo").Requirements.NeedsPairs);
        Assert.False(ObjectiveFactory.Create("dro-p").Requirements.NeedsValueNetwork);
        Assert.Equal("dro-v", ObjectiveFactory.Names[0]);
        var e = Assert.Throws<ArgumentException>(() => ObjectiveFactory.Create("ppo"));
        Assert.Contains("dro-v, dro-p, kto", e.Message);
    }

    [Fact]
    public void BadBatchesNameTheField()
    {
        var drov = new DroVObjective();
        Assert.Contains("Values is missing", Assert.Throws<ArgumentException>(() => drov.Compute(new ObjectiveBatch { PolicyLogProbs = [-1], ReferenceLogProbs = [-1], Rewards = [0] })).Message);
        Assert.Contains("Rewards has 1 entries, expected 2", Assert.Throws<ArgumentException>(() => drov.Compute(new ObjectiveBatch { PolicyLogProbs = [-1, -2], ReferenceLogProbs = [-1, -2], Values = [0, 0], Rewards = [0] })).Message);
        Assert.Contains("PolicyLogProbs[1] = NaN", Assert.Throws<ArgumentException>(() => drov.Compute(new ObjectiveBatch { PolicyLogProbs = [-1, double.NaN], ReferenceLogProbs = [-1, -2], Values = [0, 0], Rewards = [0, 0] })).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => drov.Compute(new ObjectiveBatch { PolicyLogProbs = [] })).Message);
        Assert.Contains("Weights[0]", Assert.Throws<ArgumentException>(() => drov.Compute(new ObjectiveBatch { PolicyLogProbs = [-1], ReferenceLogProbs = [-1], Values = [0], Rewards = [0], Weights = [-1] })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DroVObjective(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DroVObjective(double.NaN));
    }
}
