using DroSharp.Alignment.Data;

namespace DroSharp.Alignment.Tests.Data;

public class PromptGroupsTests
{
    [Fact]
    public void GroupsByIdenticalIdsInFirstAppearanceOrder()
    {
        var g = PromptGroups.Build([[1, 2], [3], [1, 2], [1, 2, 0], [3], [1, 2]]);
        Assert.Equal(3, g.Count);
        Assert.Equal(new[] { new[] { 0, 2, 5 }, [1, 4], [3] }, g.Groups);
        Assert.Equal(2, g.WithSeveralResponses);
        Assert.Equal(3, g.MaxResponses);
        Assert.Equal([0, 1, 0, 2, 1, 0], Enumerable.Range(0, 6).Select(g.GroupOf));
    }

    [Fact]
    public void EmptyPromptsGroupTogether()
    {
        var g = PromptGroups.Build([[], [], [0]]);
        Assert.Equal(2, g.Count);
    }
}
