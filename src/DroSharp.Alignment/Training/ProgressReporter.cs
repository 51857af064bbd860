using System.Diagnostics;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Training progress on stderr: a redrawn bar with step, loss, tokens/s and ETA on a terminal;
/// plain lines at each logging step when stderr is redirected (CI logs, files).
/// </summary>
public sealed class ProgressReporter
{
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly long _startStep;
    private long _lastDraw;

    public ProgressReporter(TextWriter output, bool interactive, long startStep, long totalSteps)
    {
        _out = output;
        _interactive = interactive;
        _startStep = startStep;
        _total = totalSteps;
    }

    public void Update(long step, double loss, double tokensPerSecond, bool logStep)
    {
        double done = step - _startStep;
        double eta = done > 0 ? _clock.Elapsed.TotalSeconds / done * (_total - step) : double.NaN;
        string etaText = double.IsFinite(eta) ? TimeSpan.FromSeconds(Math.Round(eta)).ToString(@"hh\:mm\:ss") : "--:--:--";
        string text = $"step {step}/{_total}  loss {loss:F4}  {tokensPerSecond:F0} tok/s  ETA {etaText}";
        if (_interactive)
        {
            long now = _clock.ElapsedMilliseconds;
            if (!logStep && now - _lastDraw < 200 && step != _total) return;
            _lastDraw = now;
            int width = 24;
            int filled = _total > 0 ? (int)(width * step / _total) : width;
            _out.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {text}   ");
            if (step == _total) _out.WriteLine();
        }
        else if (logStep || step == _total)
        {
            _out.WriteLine(text);
        }
        _out.Flush();
    }

    /// <summary>Ends the bar's line before other output.</summary>
    public void Break()
    {
        if (_interactive) _out.WriteLine();
    }
}
