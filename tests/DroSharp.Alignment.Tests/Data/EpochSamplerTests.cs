using DroSharp.Alignment.Data;

namespace DroSharp.Alignment.Tests.Data;

public class EpochSamplerTests
{
    private static List<IndexBatch> Take(EpochSampler s, int n) => Enumerable.Range(0, n).Select(_ => s.Next()).ToList();

    private static void AssertSameBatches(IReadOnlyList<IndexBatch> a, IReadOnlyList<IndexBatch> b)
    {
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Epoch, b[i].Epoch);
            Assert.Equal(a[i].BatchInEpoch, b[i].BatchInEpoch);
            Assert.Equal(a[i].Indices, b[i].Indices);
        }
    }

    [Fact]
    public void EachEpochIsAPermutationAndEpochsDiffer()
    {
        var s = new EpochSampler(count: 23, batchSize: 4, seed: 5);
        Assert.Equal(6, s.BatchesPerEpoch);
        var batches = Take(s, 12);
        Assert.Equal([4, 4, 4, 4, 4, 3, 4, 4, 4, 4, 4, 3], batches.Select(b => b.Indices.Length));
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], batches.Select(b => b.Epoch));
        Assert.Equal([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], batches.Select(b => b.BatchInEpoch));
        var e0 = batches.Take(6).SelectMany(b => b.Indices).ToArray();
        var e1 = batches.Skip(6).SelectMany(b => b.Indices).ToArray();
        Assert.Equal(Enumerable.Range(0, 23), e0.Order());
        Assert.Equal(Enumerable.Range(0, 23), e1.Order());
        Assert.NotEqual(e0, e1);
        Assert.NotEqual(Enumerable.Range(0, 23), e0);
    }

    [Fact]
    public void SeededAndDeterministic()
    {
        AssertSameBatches(Take(new EpochSampler(50, 7, 9), 30), Take(new EpochSampler(50, 7, 9), 30));
        Assert.NotEqual(new EpochSampler(50, 7, 9).Next().Indices, new EpochSampler(50, 7, 10).Next().Indices);
    }

    [Fact]
    public void WithoutShufflingTheOrderIsTheFileOrder()
    {
        var s = new EpochSampler(5, 2, 1, shuffle: false);
        Assert.Equal(new[] { new[] { 0, 1 }, [2, 3], [4], [0, 1] }, Take(s, 4).Select(b => b.Indices));
    }

    [Fact]
    public void DropLastLeavesOutTheShortBatch()
    {
        var s = new EpochSampler(10, 4, 3, dropLast: true);
        Assert.Equal(2, s.BatchesPerEpoch);
        var b = Take(s, 4);
        Assert.All(b, x => Assert.Equal(4, x.Indices.Length));
        Assert.Equal([0, 0, 1, 1], b.Select(x => x.Epoch));
        Assert.Throws<ArgumentException>(() => new EpochSampler(3, 4, 1, dropLast: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EpochSampler(0, 4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EpochSampler(4, 0, 1));
    }

    [Fact]
    public void AtEpochEndTellsWhenTheNextBatchStartsANewEpoch()
    {
        var s = new EpochSampler(5, 2, 1);
        Assert.False(s.AtEpochEnd);
        Take(s, 2);
        Assert.False(s.AtEpochEnd);
        s.Next();
        Assert.True(s.AtEpochEnd);
        Assert.Equal(0, s.Epoch);
        Assert.Equal(1, s.Next().Epoch);
    }

    [Theory]
    [InlineData(0)]   // before any batch
    [InlineData(3)]   // mid-epoch
    [InlineData(6)]   // exactly at the end of epoch 0 (6 batches per epoch)
    [InlineData(17)]  // mid-epoch 2
    public void ResumeYieldsTheSameBatches(int taken)
    {
        var original = new EpochSampler(23, 4, 77);
        Take(original, taken);
        var state = original.GetState();
        var expected = Take(original, 40);

        var json = state.ToJson();
        var restored = EpochSampler.Restore(SamplerState.FromJson(json), 23, 4);
        Assert.Equal(state.Epoch, restored.Epoch);
        Assert.Equal(state.Position, restored.Position);
        AssertSameBatches(expected, Take(restored, 40));
    }

    [Fact]
    public void ResumeWithDropLastAndWithoutShuffle()
    {
        foreach (var (shuffle, dropLast) in new[] { (true, true), (false, false), (false, true) })
        {
            var a = new EpochSampler(11, 3, 8, shuffle, dropLast);
            Take(a, 5);
            var state = SamplerState.FromJson(a.GetState().ToJson());
            Assert.Equal(shuffle, state.Shuffle);
            Assert.Equal(dropLast, state.DropLast);
            AssertSameBatches(Take(a, 20), Take(EpochSampler.Restore(state, 11, 3), 20));
        }
    }

    [Fact]
    public void StateJsonKeepsEveryBitOfTheGeneratorState()
    {
        var state = new SamplerState(10, 2, true, false, 3, 4, [ulong.MaxValue, 1, 0x8000_0000_0000_0001UL, 12345678901234567890UL]);
        var back = SamplerState.FromJson(state.ToJson());
        Assert.Equal(state.EpochRngState, back.EpochRngState);
        Assert.Equal(state with { EpochRngState = back.EpochRngState }, back);
        Assert.Contains("\"epoch\": 3", state.ToJson());
    }

    [Fact]
    public void ResumeRefusesChangedDataOrBatchSize()
    {
        var state = new EpochSampler(23, 4, 1).GetState();
        var e = Assert.Throws<InvalidOperationException>(() => EpochSampler.Restore(state, 22, 4));
        Assert.Contains("23 examples", e.Message);
        Assert.Throws<InvalidOperationException>(() => EpochSampler.Restore(state, 23, 8));
        Assert.Throws<FormatException>(() => SamplerState.FromJson("{\"count\": 3}"));
        Assert.Throws<FormatException>(() => EpochSampler.Restore(state with { Position = 99 }, 23, 4));
    }
}
