using DroSharp.Arena.Tasks;
using DroSharp.Tensors;

namespace DroSharp.Arena.Tests.Tasks;

public class FeedbackTests
{
    [Fact]
    public void Probability_IsTheLogisticOfTheScaledMargin()
    {
        var t = new FeedbackThreshold(0.5, 0.1);
        Assert.Equal(0.5, Feedback.ThumbsUpProbability(0.5, t), 15);
        Assert.Equal(1 / (1 + Math.Exp(-3.0)), Feedback.ThumbsUpProbability(0.8, t), 12);
        Assert.Equal(1 / (1 + Math.Exp(2.0)), Feedback.ThumbsUpProbability(0.3, t), 12);
        Assert.Equal(1.0, Feedback.ThumbsUpProbability(1e6, t));
        Assert.Equal(0.0, Feedback.ThumbsUpProbability(-1e6, t));
        Assert.False(double.IsNaN(Feedback.ThumbsUpProbability(double.NegativeInfinity, t)));
    }

    [Fact]
    public void Thumbs_FollowTheProbability()
    {
        var rng = new DeterministicRandom(12);
        const int n = 20000;
        double p = Feedback.ThumbsUpProbability(0.7, new FeedbackThreshold(0.5, 0.25));
        int up = 0;
        for (int i = 0; i < n; i++) if (Feedback.ThumbsFeedback(0.7, 0.5, 0.25, rng)) up++;
        double se = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange(up / (double)n, p - 4 * se, p + 4 * se);
    }

    [Fact]
    public void Thumbs_AreDeterministicGivenTheGenerator()
    {
        var a = new DeterministicRandom(3);
        var b = new DeterministicRandom(3);
        var t = new FeedbackThreshold(0, 1);
        for (int i = 0; i < 100; i++)
            Assert.Equal(Feedback.ThumbsFeedback(i * 0.01 - 0.5, t, a), Feedback.ThumbsFeedback(i * 0.01 - 0.5, t, b));
    }

    [Fact]
    public void Threshold_RejectsBadParameters()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeedbackThreshold(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeedbackThreshold(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeedbackThreshold(double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Feedback.ThumbsUpProbability(double.NaN, new FeedbackThreshold(0, 1)));
    }
}
