namespace DroSharp.Distributed.Tests;

public class BlockSplitTests
{
    [Theory]
    [InlineData(0L, 5, 0L)]
    [InlineData(1L, 5, 1L)]
    [InlineData(5L, 5, 1L)]
    [InlineData(6L, 5, 2L)]
    [InlineData(1001L, 7, 143L)]
    [InlineData(3L * int.MaxValue + 2, int.MaxValue, 4L)]
    public void ChunkCountIsTheCeilingOfLengthOverChunk(long length, int chunk, long expected) =>
        Assert.Equal(expected, BlockSplit.ChunkCount(length, chunk));

    [Fact]
    public void ChunkCountRejectsNonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockSplit.ChunkCount(-1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockSplit.ChunkCount(10, 0));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(1, 3)]
    [InlineData(2, 3)]
    [InlineData(3, 3)]
    [InlineData(7, 3)]
    [InlineData(1001, 4)]
    [InlineData(5, 1)]
    [InlineData(13, 13)]
    [InlineData(12, 13)]
    public void BlocksAreContiguousInRankOrderCoverEverythingAndDifferByAtMostOne(int n, int ranks)
    {
        var counts = new int[ranks];
        var displs = new int[ranks];
        BlockSplit.Blocks(n, counts, displs);
        int next = 0;
        for (int j = 0; j < ranks; j++)
        {
            Assert.Equal(next, displs[j]);
            Assert.InRange(counts[j], n / ranks, n / ranks + 1);
            if (j > 0) Assert.True(counts[j] <= counts[j - 1], "longer blocks come first");
            next += counts[j];
        }
        Assert.Equal(n, next);
    }

    [Fact]
    public void BlocksNeedOneCountAndOneDisplacementPerRank() =>
        Assert.Throws<ArgumentException>(() => BlockSplit.Blocks(5, new int[3], new int[2]));
}
