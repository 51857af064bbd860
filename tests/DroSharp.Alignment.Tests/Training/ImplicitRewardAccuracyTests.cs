using DroSharp.Alignment.Training;

namespace DroSharp.Alignment.Tests.Training;

public sealed class ImplicitRewardAccuracyTests
{
    /// <summary>The definition: every (up, down) pair, 1 when up ranks above, ½ on a tie.</summary>
    private static double BruteForce(double[] x, bool[] up)
    {
        double s = 0;
        int n = 0;
        for (int i = 0; i < x.Length; i++)
            for (int j = 0; j < x.Length; j++)
                if (up[i] && !up[j]) { s += x[i] > x[j] ? 1 : x[i] == x[j] ? 0.5 : 0; n++; }
        return s / n;
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(7, 2)]
    [InlineData(33, 3)]
    [InlineData(101, 4)]
    public void EqualsThePairwiseDefinitionWithTies(int n, int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 20; trial++)
        {
            // Few distinct values so that ties are common.
            var x = Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble() * 4) / 2 - 1).ToArray();
            var up = Enumerable.Range(0, n).Select(i => i == 0 || (i != 1 && rng.Next(3) == 0)).ToArray();
            Assert.Equal(BruteForce(x, up), ImplicitRewardAccuracy.Compute(x, up)!.Value, 12);
        }
    }

    [Fact]
    public void IsOneHalfAtTheReferenceAndNullWithOneClass()
    {
        Assert.Equal(0.5, ImplicitRewardAccuracy.Compute(new double[6], [true, false, true, false, false, false]));
        Assert.Null(ImplicitRewardAccuracy.Compute([1.0, 2.0], [true, true]));
        Assert.Null(ImplicitRewardAccuracy.Compute([1.0, 2.0], [false, false]));
        Assert.Equal(1.0, ImplicitRewardAccuracy.Compute([3.0, -1.0, 2.0], [true, false, true]));
        Assert.Equal(0.0, ImplicitRewardAccuracy.Compute([-3.0, 1.0], [true, false]));
    }
}
