namespace DroSharp.Arena.Tasks;

/// <summary>Knobs of <see cref="ArithmeticTask"/>; the defaults are the arena's standard task.</summary>
public sealed record ArithmeticTaskOptions
{
    /// <summary>Operands are uniform in [0, 10^MaxOperandDigits). 1 to 3.</summary>
    public int MaxOperandDigits { get; init; } = 2;

    /// <summary>Probability that a demonstration is the exact sum; otherwise it carries a typical mistake.</summary>
    public double DemonstrationAccuracy { get; init; } = 0.35;

    /// <summary>Reward of a wrong number with every digit right-aligned-correct; scales per-digit credit.</summary>
    public double PartialCreditWeight { get; init; } = 0.5;

    /// <summary>Subtracted per token after the answer's digits (clamped so r ≥ 0).</summary>
    public double ExtraTokenPenalty { get; init; } = 0.25;

    internal void Validate()
    {
        if (MaxOperandDigits is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(MaxOperandDigits), MaxOperandDigits, "arithmetic operands have 1 to 3 digits");
        if (DemonstrationAccuracy is < 0 or > 1 || double.IsNaN(DemonstrationAccuracy)) throw new ArgumentOutOfRangeException(nameof(DemonstrationAccuracy), DemonstrationAccuracy, "must be in [0, 1]");
        if (PartialCreditWeight is < 0 or >= 1 || double.IsNaN(PartialCreditWeight)) throw new ArgumentOutOfRangeException(nameof(PartialCreditWeight), PartialCreditWeight, "must be in [0, 1) so that only the exact answer earns 1");
        if (!(ExtraTokenPenalty >= 0) || !double.IsFinite(ExtraTokenPenalty)) throw new ArgumentOutOfRangeException(nameof(ExtraTokenPenalty), ExtraTokenPenalty, "must be finite and ≥ 0");
    }
}
