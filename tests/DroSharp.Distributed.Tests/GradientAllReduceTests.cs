using DroSharp.Tensors;
using DroSharp.Tensors.Distributed;

namespace DroSharp.Distributed.Tests;

public class GradientAllReduceTests
{
    /// <summary>
    /// Two ranks holding the same gradients (so every sum is exactly 2x), recording each call; the
    /// other rank also has a gradient for the parameters in <see cref="OtherRankHasGradient"/>.
    /// </summary>
    private sealed class TwinReducer : IGradientReducer
    {
        public List<string> Calls { get; } = [];
        public HashSet<int> OtherRankHasGradient { get; } = [];
        public int Rank => 0;
        public int WorldSize => 2;

        public void SumInPlace(Span<float> values)
        {
            Calls.Add($"float {values.Length}");
            for (int i = 0; i < values.Length; i++) values[i] += values[i];
        }

        public void SumInPlace(Span<double> values)
        {
            Calls.Add($"double {values.Length}");
            for (int i = 0; i < values.Length; i++) values[i] += OtherRankHasGradient.Contains(i) ? 1 : values[i];
        }

        public void Broadcast(Span<byte> values) => throw new NotSupportedException();
        public void Barrier() => throw new NotSupportedException();
        public void Abort(int exitCode, string message) => throw new NotSupportedException();
        public void Dispose() { }
    }

    private static Tensor Parameter(int length, bool withGradient, int seed)
    {
        var p = Tensor.Zeros(length);
        if (withGradient)
        {
            var random = new DeterministicRandom((ulong)seed);
            p.EnsureGrad();
            for (int i = 0; i < length; i++) p.Grad![i] = random.NextSingle() - 0.5f;
        }
        return p;
    }

    [Fact]
    public void SmallGradientsArePackedIntoBucketsInListOrderAndLargeOnesReducedInPlace()
    {
        // Bucket of 10: [3, 4] → one call of 7; 5 does not fit → flush; 10 ≥ bucket → in place;
        // 2 joins 5 → 7; 30 in place; the last bucket (7) at the end.
        int[] lengths = [3, 4, 5, 10, 2, 30];
        var parameters = lengths.Select((n, i) => Parameter(n, true, i)).ToList();
        var before = parameters.Select(p => p.Grad!.ToArray()).ToList();
        var reducer = new TwinReducer();
        reducer.AllReduceGradients(parameters, bucketElements: 10);
        Assert.Equal(["double 6", "float 7", "float 10", "float 30", "float 7"], reducer.Calls);
        for (int t = 0; t < lengths.Length; t++)
            Assert.Equal(before[t].Select(x => x + x), parameters[t].Grad!.ToArray());
    }

    [Fact]
    public void AGradientMissingHereButPresentElsewhereCountsAsZerosAndOneMissingEverywhereStaysMissing()
    {
        var parameters = new List<Tensor> { Parameter(3, true, 1), Parameter(4, false, 2), Parameter(5, false, 3) };
        var reducer = new TwinReducer();
        reducer.OtherRankHasGradient.Add(1);
        reducer.AllReduceGradients(parameters, bucketElements: 100);
        Assert.Equal(new float[4], parameters[1].Grad!.ToArray());
        Assert.Null(parameters[2].Grad);
        Assert.Equal(["double 3", "float 7"], reducer.Calls);
    }

    [Fact]
    public void OneRankChangesNothing()
    {
        var parameters = new List<Tensor> { Parameter(3, true, 1), Parameter(4, false, 2) };
        var before = parameters[0].Grad!.ToArray();
        LocalGradientReducer.Instance.AllReduceGradients(parameters);
        Assert.Equal(before, parameters[0].Grad!.ToArray());
        Assert.Null(parameters[1].Grad);
    }

    [Fact]
    public void TheDefaultBucketHoldsEverySmallGradientInOneCall()
    {
        var parameters = Enumerable.Range(0, 20).Select(i => Parameter(1000 + i, true, i)).ToList();
        var reducer = new TwinReducer();
        reducer.AllReduceGradients(parameters);
        Assert.Equal(["double 20", $"float {Enumerable.Range(0, 20).Sum(i => 1000 + i)}"], reducer.Calls);
    }
}
