namespace DroSharp.Arena.Pipeline;

/// <summary>What the simulated rater reports about each sampled response.</summary>
public enum FeedbackMode
{
    /// <summary>Thumbs up with probability σ((r − c)/s), down otherwise: noisy binary feedback, like people give.</summary>
    Thumbs,

    /// <summary>The true reward r itself (a perfect scalar rater, as the paper's reward-model scores).</summary>
    Score,
}
