using System.Diagnostics;
using DroSharp.Alignment.Objectives;

namespace DroSharp.Alignment.Training;

/// <summary>
/// The training metrics of the steps since the last logging step: each logged line averages them
/// (TRL's logging convention), with the tokens per second of the window. A checkpoint stores a
/// partly filled window, so a resumed run logs the same averages.
/// </summary>
internal sealed class MetricsWindow
{
    private ObjectiveMetrics _metrics = new();
    private double _lossSum;
    private int _steps;
    private long _tokens;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public static MetricsWindow From(TrainingCheckpoint.LogWindow saved) => new()
    {
        _metrics = ObjectiveMetrics.ImportEntries(saved.Metrics),
        _lossSum = saved.LossSum,
        _steps = saved.Steps,
        _tokens = saved.Tokens,
    };

    public void Add(double loss, ObjectiveMetrics metrics, long tokens)
    {
        _metrics.Merge(metrics);
        _lossSum += loss;
        _steps++;
        _tokens += tokens;
    }

    public double MeanLoss => _lossSum / Math.Max(1, _steps);

    public double TokensPerSecond => _tokens / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);

    /// <summary>The window's averages (<c>loss</c>, the objective's metrics, <c>tokens_per_s</c>); starts a new window.</summary>
    public SortedDictionary<string, double> Flush()
    {
        var line = new SortedDictionary<string, double>(_metrics.ToDictionary(), StringComparer.Ordinal)
        {
            ["loss"] = _lossSum / _steps,
            ["tokens_per_s"] = TokensPerSecond,
        };
        _metrics = new ObjectiveMetrics();
        _lossSum = 0;
        _steps = 0;
        _tokens = 0;
        _clock.Restart();
        return line;
    }

    public TrainingCheckpoint.LogWindow ToCheckpoint() => new(_metrics.ExportEntries(), _lossSum, _steps, _tokens);
}
