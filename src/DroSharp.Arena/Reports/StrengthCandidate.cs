namespace DroSharp.Arena.Reports;

/// <summary>One arm considered by a <see cref="StrengthChoice"/>: its name, strength and validation score at its selected point.</summary>
public sealed class StrengthCandidate
{
    public string Name { get; set; } = "";

    public double Strength { get; set; }

    /// <summary>Mean over seeds of the validation win rate against SFT at the arm's selected point.</summary>
    public double ValidationWinRate { get; set; }
}
