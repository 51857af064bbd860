namespace DroSharp.Text.Templates;

/// <summary>Python's <c>range</c> (the sandbox refuses more than 100000 items).</summary>
internal sealed class PyRange
{
    public const long MaxRange = 100000;

    public PyRange(long start, long stop, long step)
    {
        if (step == 0) throw PyException.Value("range() arg 3 must not be zero");
        Start = start;
        Stop = stop;
        Step = step;
        long n = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0) : (start > stop ? (start - stop - step - 1) / -step : 0);
        Count = n;
        if (n > MaxRange)
            throw new PyException("OverflowError", $"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
    }

    public long Start { get; }
    public long Stop { get; }
    public long Step { get; }
    public long Count { get; }

    public long this[long i] => Start + i * Step;

    public IEnumerable<object?> Enumerate()
    {
        for (long i = 0; i < Count; i++) yield return Start + i * Step;
    }

    public override string ToString() => Step == 1 ? $"range({Start}, {Stop})" : $"range({Start}, {Stop}, {Step})";
}
