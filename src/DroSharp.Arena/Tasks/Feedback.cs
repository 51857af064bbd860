using DroSharp.Tensors;

namespace DroSharp.Arena.Tasks;

/// <summary>
/// Simulated single-trajectory feedback from the hidden true reward.
/// Thumbs: up with probability σ((r − c)/s), a Bradley–Terry-style noisy rater.
/// </summary>
public static class Feedback
{
    /// <summary>σ((r − c)/s), computed without overflow for large |r − c|/s.</summary>
    public static double ThumbsUpProbability(double reward, FeedbackThreshold threshold)
    {
        if (double.IsNaN(reward)) throw new ArgumentOutOfRangeException(nameof(reward), "reward is NaN");
        double z = (reward - threshold.Center) / threshold.Scale;
        return z >= 0 ? 1.0 / (1.0 + Math.Exp(-z)) : Math.Exp(z) / (1.0 + Math.Exp(z));
    }

    /// <summary>One rater decision: true (thumbs up) with probability σ((r − c)/s). Draws exactly one double from rng.</summary>
    public static bool ThumbsFeedback(double reward, double center, double scale, DeterministicRandom rng)
        => ThumbsFeedback(reward, new FeedbackThreshold(center, scale), rng);

    /// <inheritdoc cref="ThumbsFeedback(double, double, double, DeterministicRandom)"/>
    public static bool ThumbsFeedback(double reward, FeedbackThreshold threshold, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        double p = ThumbsUpProbability(reward, threshold);
        return rng.NextDouble() < p;
    }
}
