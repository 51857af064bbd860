namespace DroSharp.Arena.Reports;

/// <summary>One seed of a head-to-head comparison: the win rate of A over B with its standard error over prompts.</summary>
public sealed class HeadToHeadSeed
{
    public ulong Seed { get; set; }

    public double WinRate { get; set; }

    public double StandardError { get; set; }

    public int Wins { get; set; }

    public int Ties { get; set; }

    public int Losses { get; set; }
}
