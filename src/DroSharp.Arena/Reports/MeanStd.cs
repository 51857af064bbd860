namespace DroSharp.Arena.Reports;

/// <summary>Mean of a few values (e.g. one per seed), their sample standard deviation (n − 1; 0 for n = 1) and the standard error std/√n.</summary>
public readonly record struct MeanStd(double Mean, double Std, int Count)
{
    public double StandardError => Count > 0 ? Std / Math.Sqrt(Count) : double.NaN;
}
