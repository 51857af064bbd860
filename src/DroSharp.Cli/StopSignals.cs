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
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    public CancellationToken Token => _cts.Token;

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1)
        {
            context.Cancel = false; // the second signal: the default action, which ends the process now
            Console.Error.WriteLine($"\ndro: {context.Signal} again: exiting now, without saving");
            return;
        }
        context.Cancel = true;
        Console.Error.WriteLine($"\ndro: {context.Signal}: {_firstMessage} (send it again to exit at once)");
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
