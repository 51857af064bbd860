namespace DroSharp.Alignment.Training;

/// <summary>One line of <c>metrics.jsonl</c>: the step and its named values (non-finite values as NaN/±∞).</summary>
public sealed record MetricsRecord(long Step, IReadOnlyDictionary<string, double> Values)
{
    /// <summary>The value of <paramref name="name"/>, or null when the line does not hold it.</summary>
    public double? Get(string name) => Values.TryGetValue(name, out double v) ? v : null;

    /// <summary>True for the lines of a held-out evaluation (they hold <c>eval_*</c> values).</summary>
    public bool IsEvaluation => Values.Keys.Any(k => k.StartsWith("eval_", StringComparison.Ordinal));
}
