using System.Runtime.InteropServices;

namespace DroSharp.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (what schedulers and <c>docker stop</c> send) ask a long command to stop cleanly: the
/// first cancels <see cref="Token"/> (the trainer stops within the current step or reference batch and saves a
/// checkpoint); a second one of either terminates the process at once (the signal's default action).
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration[] _registrations;
    private readonly string _firstMessage;
    private int _received;

    /// <param name="firstMessage">Printed on stderr at the first signal, e.g. what will be saved.</param>
    public StopSignals(string firstMessage)
    {
        _firstMessage = firstMessage;
        var signals = new List<PosixSignal> { PosixSignal.SIGINT, PosixSignal.SIGTERM };
        // SIGUSR1: Open MPI's mpirun forwards it to every rank, which then stop after the same step.
        if (OperatingSystem.IsLinux()) signals.Add((PosixSignal)LinuxSigusr1);
        _registrations = signals.Select(s => PosixSignalRegistration.Create(s, Handle)).ToArray();
    }

    private const int LinuxSigusr1 = 10;

    public CancellationToken Token => _cts.Token;

    /// <summary>True on the ranks of an MPI job but rank 0: they stop silently (rank 0 says it once).</summary>
    public bool Quiet { get; set; }

    private static string Name(PosixSignal signal) => (int)signal == LinuxSigusr1 ? "SIGUSR1" : signal.ToString();

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1)
        {
            context.Cancel = false; // the second signal: the default action, which ends the process now
            if (!Quiet) Console.Error.WriteLine($"\ndro: {Name(context.Signal)} again: exiting now, without saving");
            return;
        }
        context.Cancel = true;
        if (!Quiet) Console.Error.WriteLine($"\ndro: {Name(context.Signal)}: {_firstMessage} (send it again to exit at once)");
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
