using DroSharp.Tensors;

namespace DroSharp.Distributed.Tests;

public class RankOrderedSumTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 17)]
    [InlineData(3, 1001)]
    [InlineData(5, 33)]
    public void FloatBlocksAreAddedLeftToRightInRankOrder(int ranks, int m)
    {
        var random = new DeterministicRandom((ulong)(ranks * 1000 + m));
        var blocks = new float[ranks * m];
        for (int i = 0; i < blocks.Length; i++)
            blocks[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.NextInt(25) - 12));
        var result = new float[m];
        RankOrderedSum.Add<float>(blocks, ranks, result);
        for (int k = 0; k < m; k++)
        {
            float expected = blocks[k];
            for (int r = 1; r < ranks; r++) expected += blocks[r * m + k];
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(result[k]));
        }
    }

    [Fact]
    public void DoubleBlocksAreAddedLeftToRightInRankOrder()
    {
        double[] blocks = [1e16, 2, -1e16, 1, 3, 1];
        var result = new double[2];
        RankOrderedSum.Add<double>(blocks, 3, result);
        // Element 0: (1e16 − 1e16) + 3 = 3 exactly; 1e16 + 3 first would round to 1e16 + 4 and give 4.
        Assert.Equal([3.0, 4.0], result);
    }

    [Fact]
    public void TheOrderShowsInTheBits()
    {
        // (1 + 2⁻²⁴) + 2⁻²⁴ = 1 in float (each addition rounds to even), 1 + (2⁻²⁴ + 2⁻²⁴) = 1 + 2⁻²³:
        // a sum that would not keep rank order could not pass the tests above.
        float tiny = MathF.Pow(2, -24);
        var result = new float[1];
        RankOrderedSum.Add<float>([1f, tiny, tiny], 3, result);
        Assert.Equal(1f, result[0]);
        RankOrderedSum.Add<float>([tiny, tiny, 1f], 3, result);
        Assert.Equal(1f + MathF.Pow(2, -23), result[0]);
    }

    [Fact]
    public void TooFewElementsForTheBlocksIsRejected() =>
        Assert.Throws<ArgumentException>(() => RankOrderedSum.Add<float>(new float[5], 3, new float[2]));
}
