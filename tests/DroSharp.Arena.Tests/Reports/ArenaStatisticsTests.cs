using DroSharp.Arena.Reports;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tests.Reports;

public class ArenaStatisticsTests
{
    [Fact]
    public void WinRate_CountsTiesAsHalf()
    {
        var w = ArenaStatistics.WinRate([1, 2, 3, 4], [0, 2, 5, 1]);
        Assert.Equal((2, 1, 1, 4), (w.Wins, w.Ties, w.Losses, w.Count));
        Assert.Equal(0.625, w.Rate, 15);
        // scores 1, ½, 0, 1: E[s²] = 0.5625, Var = 0.5625 − 0.625² = 0.171875
        Assert.Equal(Math.Sqrt(0.171875 / 4), w.StandardError, 12);
    }

    [Fact]
    public void WinRate_WithoutTiesHasTheBinomialError()
    {
        var rng = new DeterministicRandom(1);
        var a = Enumerable.Range(0, 500).Select(_ => rng.NextDouble()).ToArray();
        var b = Enumerable.Range(0, 500).Select(_ => rng.NextDouble() + 0.1).ToArray();
        var w = ArenaStatistics.WinRate(a, b);
        Assert.Equal(0, w.Ties);
        Assert.Equal(Math.Sqrt(w.Rate * (1 - w.Rate) / 500), w.StandardError, 12);
        Assert.Equal(1 - w.Rate, ArenaStatistics.WinRate(b, a).Rate, 12); // antisymmetric
    }

    [Fact]
    public void WinRate_HonoursTheTieTolerance()
    {
        Assert.Equal(0.5, ArenaStatistics.WinRate([1.0], [1.05], tieTolerance: 0.1).Rate);
        Assert.Equal(0.0, ArenaStatistics.WinRate([1.0], [1.05]).Rate);
    }

    [Fact]
    public void WinRate_RejectsMismatchedOrBadInput()
    {
        var e = Assert.Throws<ArgumentException>(() => ArenaStatistics.WinRate([1, 2], [1]));
        Assert.Contains("2", e.Message);
        Assert.Throws<ArgumentException>(() => ArenaStatistics.WinRate([], []));
        Assert.Throws<ArgumentException>(() => ArenaStatistics.WinRate([double.NaN], [1]));
    }

    [Fact]
    public void WinScores_MatchTheWinRate()
    {
        double[] a = [1, 2, 3, 4], b = [0, 2, 5, 1];
        Assert.Equal([1, 0.5, 0, 1], ArenaStatistics.WinScores(a, b));
        Assert.Equal(ArenaStatistics.WinRate(a, b).Rate, ArenaStatistics.WinScores(a, b).Average(), 15);
    }

    [Fact]
    public void Bootstrap_AgreesWithTheAnalyticError()
    {
        var rng = new DeterministicRandom(7);
        var a = Enumerable.Range(0, 400).Select(_ => rng.NextGaussian()).ToArray();
        var b = Enumerable.Range(0, 400).Select(_ => rng.NextGaussian() + 0.3).ToArray();
        var scores = ArenaStatistics.WinScores(a, b);
        double analytic = ArenaStatistics.WinRate(a, b).StandardError;
        double boot = ArenaStatistics.BootstrapStandardError(scores, new DeterministicRandom(8), 2000);
        Assert.InRange(boot / analytic, 0.9, 1.1);
        Assert.Equal(boot, ArenaStatistics.BootstrapStandardError(scores, new DeterministicRandom(8), 2000)); // deterministic
    }

    [Fact]
    public void MeanAndStd_UsesTheSampleStandardDeviation()
    {
        var ms = ArenaStatistics.MeanAndStd([2, 4, 4, 4, 5, 5, 7, 9]);
        Assert.Equal(5, ms.Mean, 15);
        Assert.Equal(Math.Sqrt(32.0 / 7), ms.Std, 12);
        Assert.Equal(Math.Sqrt(32.0 / 7) / Math.Sqrt(8), ms.StandardError, 12);
        var one = ArenaStatistics.MeanAndStd([3.5]);
        Assert.Equal((3.5, 0.0, 1), (one.Mean, one.Std, one.Count));
        Assert.Throws<ArgumentException>(() => ArenaStatistics.MeanAndStd([]));
        // No cancellation with a large offset.
        Assert.Equal(Math.Sqrt(32.0 / 7), ArenaStatistics.MeanAndStd([1e9 + 2, 1e9 + 4, 1e9 + 4, 1e9 + 4, 1e9 + 5, 1e9 + 5, 1e9 + 7, 1e9 + 9]).Std, 6);
    }

    [Fact]
    public void Kl_IsTheMeanLogRatio()
    {
        var kl = ArenaStatistics.KlFromLogProbs([-1.0, -2.0], [-1.5, -1.0]);
        Assert.Equal(-0.25, kl.Kl, 15); // d = 0.5, −1
        Assert.Equal(((Math.Exp(-0.5) - 1 + 0.5) + (Math.Exp(1) - 1 - 1)) / 2, kl.K3, 12);
        Assert.Equal(2, kl.Count);
        Assert.Equal(Math.Sqrt(1.125) / Math.Sqrt(2), kl.StandardError, 12);
        Assert.Throws<ArgumentException>(() => ArenaStatistics.KlFromLogProbs([1.0], [1.0, 2.0]));
        Assert.Throws<ArgumentException>(() => ArenaStatistics.KlFromLogRatios([double.NegativeInfinity]));
        Assert.Equal(0, ArenaStatistics.KlFromLogRatios([0.0, 0.0]).Kl);
    }

    [Fact]
    public void Kl_EstimatesTheTrueKlOfADiscreteDistribution()
    {
        double[] pi = [0.5, 0.3, 0.2], reference = [0.2, 0.3, 0.5];
        double exact = Enumerable.Range(0, 3).Sum(i => pi[i] * Math.Log(pi[i] / reference[i]));
        var rng = new DeterministicRandom(11);
        var logPi = new double[20000];
        var logRef = new double[20000];
        for (int n = 0; n < logPi.Length; n++)
        {
            double u = rng.NextDouble();
            int y = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
            logPi[n] = Math.Log(pi[y]);
            logRef[n] = Math.Log(reference[y]);
        }
        var kl = ArenaStatistics.KlFromLogProbs(logPi, logRef);
        Assert.InRange(kl.Kl, exact - 4 * kl.StandardError, exact + 4 * kl.StandardError);
        Assert.InRange(kl.K3, exact - 0.05, exact + 0.05);
    }
}
