using DroSharp.Tensors.Optim;

namespace DroSharp.Tensors.Tests.Optim;

public class LearningRateScheduleTests
{
    private const double Base = 1e-4;

    [Theory]
    // kind, warmup, total, step, expected λ
    [InlineData("constant", 10, 100, 0, 0.0)]
    [InlineData("constant", 10, 100, 5, 0.5)]
    [InlineData("constant", 10, 100, 9, 0.9)]
    [InlineData("constant", 10, 100, 10, 1.0)]
    [InlineData("constant", 10, 100, 500, 1.0)]
    [InlineData("constant", 0, 100, 0, 1.0)]
    [InlineData("linear", 10, 100, 0, 0.0)]
    [InlineData("linear", 10, 100, 10, 1.0)]
    [InlineData("linear", 10, 100, 55, 0.5)]
    [InlineData("linear", 10, 100, 99, 1.0 / 90)]
    [InlineData("linear", 10, 100, 100, 0.0)]
    [InlineData("linear", 10, 100, 130, 0.0)]
    [InlineData("linear", 0, 4, 0, 1.0)]
    [InlineData("linear", 0, 4, 1, 0.75)]
    [InlineData("linear", 5, 5, 5, 0.0)]
    [InlineData("cosine", 10, 100, 0, 0.0)]
    [InlineData("cosine", 10, 100, 10, 1.0)]
    [InlineData("cosine", 10, 100, 55, 0.5)]
    [InlineData("cosine", 10, 100, 100, 0.0)]
    [InlineData("cosine", 0, 4, 1, 0.85355339059327373)]   // ½(1 + cos(π/4))
    [InlineData("cosine", 10, 100, 145, 0.5)]               // HF's formula rises again past the end
    [InlineData("cosine", 150, 1000, 150, 1.0)]             // the DRO paper's 150 warmup steps
    [InlineData("linear", 150, 1000, 75, 0.5)]
    public void FactorMatchesHuggingFaceAtBoundarySteps(string kind, int warmup, int total, long step, double expected)
    {
        var schedule = new LearningRateSchedule(LearningRateSchedule.ParseKind(kind), Base, warmup, total);
        Assert.Equal(expected, schedule.Factor(step), 12);
        Assert.Equal(Base * expected, schedule.LearningRate(step), 1e-16);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.ParseKind("step"));
        Assert.Equal(LearningRateScheduleKind.Cosine, LearningRateSchedule.ParseKind(" Cosine "));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule(LearningRateScheduleKind.Linear, -1, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule(LearningRateScheduleKind.Linear, 1, -1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule(LearningRateScheduleKind.Linear, 1, 0, -10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule(LearningRateScheduleKind.Linear, 1, 0, 10).Factor(-1));
    }
}
