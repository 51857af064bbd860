using DroSharp.Arena.Pipeline;

namespace DroSharp.Arena.Tests.Pipeline;

public sealed class HyperparameterSelectionTests
{
    private static Dictionary<CandidateKey, ValidationScore> Seed(params (double Lr, int Step, double Win, double Reward)[] points)
        => points.ToDictionary(p => new CandidateKey(p.Lr, p.Step), p => new ValidationScore(p.Win, p.Reward));

    [Fact]
    public void PicksTheHighestMeanValidationWinRateOverSeeds()
    {
        // Seed 1 alone would pick (1e-3, 100); the mean over both seeds picks (1e-4, 200).
        var seeds = new[]
        {
            Seed((1e-4, 100, 0.60, 0.1), (1e-4, 200, 0.66, 0.2), (1e-3, 100, 0.70, 0.3), (1e-3, 200, 0.50, 0.0)),
            Seed((1e-4, 100, 0.62, 0.1), (1e-4, 200, 0.68, 0.2), (1e-3, 100, 0.58, 0.3), (1e-3, 200, 0.52, 0.0)),
        };
        var result = HyperparameterSelection.Select(seeds, "rule");
        Assert.Equal("rule", result.Criterion);
        Assert.Equal(1e-4, result.LearningRate);
        Assert.Equal(200, result.Step);
        Assert.Equal([(1e-4, 100), (1e-4, 200), (1e-3, 100), (1e-3, 200)], result.Grid.Select(g => (g.LearningRate, g.Step)));
        var chosen = result.Grid[1];
        Assert.Equal(0.67, chosen.ValidationWinRate!.Value, 12);
        Assert.Equal(Math.Sqrt(0.0002), chosen.ValidationWinRateStd!.Value, 12); // sample std of 0.66 and 0.68
        Assert.Equal(0.2, chosen.ValidationReward!.Value, 12);
        Assert.All(result.Grid, g => Assert.True(g.Eligible));
    }

    [Fact]
    public void APointSomeSeedDidNotReach_CannotBeChosen()
    {
        // Seed 2 diverged at LR 1e-3 before step 200: that point is missing there.
        var seeds = new[]
        {
            Seed((1e-4, 200, 0.55, 0), (1e-3, 100, 0.60, 0), (1e-3, 200, 0.95, 0)),
            Seed((1e-4, 200, 0.55, 0), (1e-3, 100, 0.50, 0)),
        };
        var result = HyperparameterSelection.Select(seeds, "rule");
        Assert.Equal((1e-3, 100), (result.LearningRate!.Value, result.Step!.Value)); // mean 0.55 ties (1e-4, 200): the earlier step wins
        var unreached = result.Grid.Single(g => g.LearningRate == 1e-3 && g.Step == 200);
        Assert.False(unreached.Eligible);
        Assert.Equal(1, unreached.Seeds);
        Assert.Equal(0.95, unreached.ValidationWinRate);
    }

    [Fact]
    public void NothingEligible_NoChoice()
    {
        var result = HyperparameterSelection.Select([Seed((1e-3, 100, 0.6, 0)), Seed()], "rule");
        Assert.Null(result.LearningRate);
        Assert.Null(result.Step);
        Assert.Single(result.Grid);
    }

    [Fact]
    public void Ties_GoToTheHigherReward_ThenTheEarlierStep_ThenTheSmallerRate()
    {
        Assert.Equal(200, HyperparameterSelection.Select([Seed((1e-4, 100, 0.6, 0.1), (1e-4, 200, 0.6, 0.2))], "r").Step);
        Assert.Equal(100, HyperparameterSelection.Select([Seed((1e-4, 100, 0.6, 0.2), (1e-4, 200, 0.6, 0.2))], "r").Step);
        Assert.Equal(1e-4, HyperparameterSelection.Select([Seed((1e-3, 100, 0.6, 0.2), (1e-4, 100, 0.6, 0.2))], "r").LearningRate);
    }

    [Fact]
    public void NonFiniteScores_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => HyperparameterSelection.Select([Seed((1e-4, 100, double.NaN, 0))], "r"));
        Assert.Throws<ArgumentException>(() => HyperparameterSelection.Select([], "r"));
    }
}
