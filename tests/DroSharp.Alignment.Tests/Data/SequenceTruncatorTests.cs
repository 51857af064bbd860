using DroSharp.Alignment.Data;

namespace DroSharp.Alignment.Tests.Data;

public class SequenceTruncatorTests
{
    [Fact]
    public void PromptKeepsItsEndCompletionItsStart()
    {
        var t = new SequenceTruncator(3, 2);
        Assert.Equal([3, 4, 5], t.TruncatePrompt([1, 2, 3, 4, 5]));
        Assert.Equal([7, 8], t.TruncateCompletion([7, 8, 9, 1]));
        int[] shortPrompt = [1, 2];
        Assert.Same(shortPrompt, t.TruncatePrompt(shortPrompt));
        int[] exact = [4, 1];
        Assert.Same(exact, t.TruncateCompletion(exact));
        Assert.Equal(new TruncationCounts(2, 1, 2, 2, 1, 2), t.Counts);
    }

    [Fact]
    public void SpecialTokensSurviveACutAsInHuggingFaceTruncation()
    {
        // BOS 0 stays in front of a cut prompt; an EOS (1, or another stop id 9) stays at the end of a cut completion.
        var t = new SequenceTruncator(3, 3, bosId: 0, endIds: [1, 9]);
        Assert.Equal([0, 4, 5], t.TruncatePrompt([0, 2, 3, 4, 5]));
        Assert.Equal([3, 4, 5], t.TruncatePrompt([2, 3, 4, 5]));
        Assert.Equal([7, 8, 1], t.TruncateCompletion([7, 8, 6, 5, 1]));
        Assert.Equal([7, 8, 9], t.TruncateCompletion([7, 8, 6, 9]));
        Assert.Equal([7, 8, 6], t.TruncateCompletion([7, 8, 6, 5]));
        Assert.Equal(new TruncationCounts(2, 2, 3, 3, 3, 4), t.Counts);
    }

    [Fact]
    public void NoLimitsMeansNoCuts()
    {
        var t = new SequenceTruncator(null, null);
        var long1 = Enumerable.Range(0, 10000).ToArray();
        Assert.Same(long1, t.TruncatePrompt(long1));
        Assert.Same(long1, t.TruncateCompletion(long1));
        Assert.Equal(new TruncationCounts(1, 0, 0, 1, 0, 0), t.Counts);
    }

    [Fact]
    public void LimitsMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceTruncator(0, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceTruncator(null, -3));
    }
}
