namespace DroSharp.Tensors.Tests;

public class DeterministicRandomTests
{
    [Fact]
    public void SameSeedSameStreamAndStateRoundTrips()
    {
        var a = new DeterministicRandom(42);
        var b = new DeterministicRandom(42);
        for (int i = 0; i < 10; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        var c = DeterministicRandom.FromState(a.GetState());
        for (int i = 0; i < 10; i++) Assert.Equal(a.NextDouble(), c.NextDouble());
        Assert.NotEqual(new DeterministicRandom(1).NextUInt64(), new DeterministicRandom(2).NextUInt64());
    }

    [Fact]
    public void NextIntIsInRangeAndRoughlyUniform()
    {
        var r = new DeterministicRandom(7);
        var counts = new int[7];
        for (int i = 0; i < 70000; i++) counts[r.NextInt(7)]++;
        foreach (var c in counts) Assert.InRange(c, 9000, 11000);
    }

    [Fact]
    public void GaussianHasUnitVariance()
    {
        var r = new DeterministicRandom(3);
        double s = 0, s2 = 0; int n = 100000;
        for (int i = 0; i < n; i++) { double g = r.NextGaussian(); s += g; s2 += g * g; }
        Assert.InRange(s / n, -0.02, 0.02);
        Assert.InRange(s2 / n, 0.97, 1.03);
    }
}
