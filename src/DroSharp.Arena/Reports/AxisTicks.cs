using System.Globalization;

namespace DroSharp.Arena.Reports;

/// <summary>"Nice" axis ticks: steps of 1, 2, 2.5 or 5 × 10^k covering [min, max] with about <c>target</c> intervals.</summary>
internal readonly record struct AxisTicks(double Min, double Max, double Step, int Decimals)
{
    public static AxisTicks For(double min, double max, int target = 5)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new ArgumentException($"axis range [{min}, {max}] is not finite");
        if (min > max) (min, max) = (max, min);
        if (max - min < 1e-12 * Math.Max(1, Math.Abs(max)))
        {
            double pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            min -= pad; max += pad;
        }
        // The smallest step of the form {1, 2, 2.5, 5} × 10^k whose nice-rounded range has at most target + 2
        // intervals: tight ranges without crowded ticks.
        double raw = (max - min) / target;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)) - 1);
        var (step, lo, hi) = ChooseStep(min, max, magnitude, target);
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        if (Math.Abs(step / Math.Pow(10, -decimals) - Math.Round(step / Math.Pow(10, -decimals))) > 1e-6) decimals++; // 2.5 × 10^k
        return new AxisTicks(lo, hi, step, Math.Min(decimals, 10));
    }

    private static (double Step, double Lo, double Hi) ChooseStep(double min, double max, double magnitude, int target)
    {
        (double, double, double) last = default;
        foreach (double m in new[] { magnitude, magnitude * 10, magnitude * 100, magnitude * 1000 })
        {
            foreach (double f in new[] { 1, 2, 2.5, 5 })
            {
                double step = m * f;
                double lo = Math.Floor(min / step + 1e-9) * step;
                double hi = Math.Ceiling(max / step - 1e-9) * step;
                last = (step, lo, hi);
                if ((hi - lo) / step <= target + 2 + 1e-9) return last;
            }
        }
        return last; // unreachable: 500 × magnitude spans the range in ≤ 2 intervals
    }

    public IEnumerable<double> Values()
    {
        int count = (int)Math.Round((Max - Min) / Step);
        for (int i = 0; i <= count; i++) yield return Min + i * Step;
    }

    public string Format(double value)
    {
        if (Math.Abs(value) < Step * 1e-9) value = 0; // no "-0"
        return value.ToString("F" + Decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
