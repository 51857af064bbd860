namespace DroSharp.Arena.Reports;

/// <summary>
/// Win rate of A over B over n prompts, one sample each: Rate = (wins + ½ ties) / n, with the standard
/// error of that mean.
/// </summary>
public readonly record struct WinRateEstimate(double Rate, double StandardError, int Wins, int Ties, int Losses)
{
    public int Count => Wins + Ties + Losses;
}
