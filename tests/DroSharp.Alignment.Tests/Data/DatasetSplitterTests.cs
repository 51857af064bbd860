using DroSharp.Alignment.Data;
using static DroSharp.Alignment.Tests.Data.DataTestUtil;

namespace DroSharp.Alignment.Tests.Data;

public class DatasetSplitterTests
{
    private static FeedbackDataset Rows(int n, int responsesPerPrompt = 1) =>
        Parse(string.Join("\n", Enumerable.Range(0, n).Select(i =>
            $"{{\"prompt\":\"q{i / responsesPerPrompt}\",\"completion\":\"a{i}\",\"reward\":{i}}}")));

    [Fact]
    public void SameSeedSameSplitDifferentSeedDifferentSplit()
    {
        var d = Rows(200);
        var a = DatasetSplitter.Split(d, 0.1, 42);
        var b = DatasetSplitter.Split(d, 0.1, 42);
        var c = DatasetSplitter.Split(d, 0.1, 43);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Eval, b.Eval);
        Assert.NotEqual(a.Eval, c.Eval);
        Assert.Equal(20, a.Eval.Length);
        Assert.Equal(180, a.Train.Length);
        Assert.Equal(Enumerable.Range(0, 200), a.Train.Concat(a.Eval).Order());
        Assert.Equal(a.Eval.Order(), a.Eval); // file order within each side
        // Not simply the first or last rows.
        Assert.NotEqual(Enumerable.Range(0, 20), a.Eval);
        Assert.NotEqual(Enumerable.Range(180, 20), a.Eval);
    }

    [Fact]
    public void GoldenSplitIsStable()
    {
        // Pins the split for seed 7 so that a change to the shuffle (which would silently change every user's
        // eval set) fails here.
        var s = DatasetSplitter.Split(Rows(10), 0.3, 7);
        Assert.Equal(3, s.Eval.Length);
        Assert.Equal(s.Eval, DatasetSplitter.Split(Rows(10), 0.3, 7).Eval);
        Assert.Equal(GoldenEval, s.Eval);
    }

    // Computed independently with a Python transcription of xoshiro256** (SplitMix64 seeding, Lemire's bounded
    // ints, Fisher–Yates from the top): seed 7 + the split stream offset shuffles 0..9 to [6, 5, 7, 8, 2, 1, 4, 3, 0, 9].
    private static readonly int[] GoldenEval = [5, 6, 7];

    [Fact]
    public void ExamplesSharingAPromptStayTogether()
    {
        var d = Rows(120, responsesPerPrompt: 4); // 30 prompts × 4 responses
        var s = DatasetSplitter.Split(d, 0.2, 1);
        var evalPrompts = s.Eval.Select(i => d.Examples[i].Prompt.Text).ToHashSet();
        var trainPrompts = s.Train.Select(i => d.Examples[i].Prompt.Text).ToHashSet();
        Assert.Empty(evalPrompts.Intersect(trainPrompts));
        Assert.Equal(24, s.Eval.Length);
        Assert.Equal(6, evalPrompts.Count);
    }

    [Fact]
    public void TinyFractionsStillHoldOutOneAndTrainingKeepsOne()
    {
        var d = Rows(5);
        Assert.Single(DatasetSplitter.Split(d, 0.01, 3).Eval);
        var big = DatasetSplitter.Split(d, 0.99, 3);
        Assert.Single(big.Train);
        Assert.Equal(4, big.Eval.Length);
    }

    [Fact]
    public void Failures()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.Split(Rows(10), 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.Split(Rows(10), 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.Split(Rows(10), double.NaN, 1));
        var one = Assert.Throws<DataFormatException>(() => DatasetSplitter.Split(Rows(8, responsesPerPrompt: 8), 0.5, 1));
        Assert.Contains("same prompt", one.Reason);
    }
}
