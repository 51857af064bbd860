namespace DroSharp.Arena.Tasks;

/// <summary>
/// Parameters of the simulated rater: P(thumbs up | x, y) = σ((r(x, y) − Center) / Scale).
/// Center is the reward at which a rater is undecided; Scale is how soft the decision is
/// (Scale → 0 gives a hard threshold).
/// </summary>
public readonly record struct FeedbackThreshold
{
    public FeedbackThreshold(double center, double scale)
    {
        if (!double.IsFinite(center)) throw new ArgumentOutOfRangeException(nameof(center), center, "feedback center must be finite");
        if (!(scale > 0) || !double.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "feedback scale must be finite and > 0");
        Center = center;
        Scale = scale;
    }

    public double Center { get; }
    public double Scale { get; }

    public override string ToString() => FormattableString.Invariant($"c={Center}, s={Scale}");
}
