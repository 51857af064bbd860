using DroSharp.Distributed;
using DroSharp.Tensors.Distributed;

namespace DroSharp.Cli;

/// <summary>
/// Runs a training command as one process, or as one rank of an MPI job
/// (<c>mpirun -np N dro train …</c>, or a cluster scheduler's MPI launch):
/// <list type="bullet">
/// <item>the reducer comes from <see cref="DistributedEnvironment.Create"/> (MPI only under a launcher,
/// so a plain run needs no MPI library; under one without a loadable library: a one-line user error);</item>
/// <item>under MPI the body runs guarded: a rank that throws prints <c>[rank r of N] dro: message</c>
/// and calls MPI_Abort, so the launcher ends every rank with a non-zero exit instead of leaving the
/// others blocked in a collective (exit code 1 for a user error, 2 for an internal fault);</item>
/// <item>SIGINT, SIGTERM and SIGUSR1 (Open MPI's mpirun forwards it to every rank) request a stop
/// (<see cref="StopSignals"/>): the trainer's ranks agree to stop after the same step, rank 0 saves a
/// checkpoint, and every rank exits with <see cref="InterruptedExitCode"/> after MPI_Finalize. A second
/// signal ends the process at once.</item>
/// </list>
/// </summary>
internal static class DataParallelRun
{
    /// <summary>Exit code of a run stopped by a signal after saving a checkpoint (128 + SIGINT).</summary>
    public const int InterruptedExitCode = 130;

    private const int LinuxSigusr1 = 10;

    /// <summary>
    /// <paramref name="body"/> gets the reducer (rank, world size) and returns 0, or
    /// <see cref="InterruptedExitCode"/> when every rank stopped early; its exceptions end the job.
    /// </summary>
    public static int Run(StopSignals stop, Func<IGradientReducer, int> body)
    {
        using var reducer = DistributedEnvironment.Create();
        stop.Quiet = reducer.Rank != 0;
        int code = 0;
        reducer.RunGuarded(() =>
        {
            code = body(reducer);
            // Every rank stopped after the same step (the trainer agrees on it) and the checkpoint is
            // saved: end normally (MPI_Finalize) rather than abort, then exit with the code.
            return code == InterruptedExitCode ? 0 : code;
        }, Describe);
        return code;
    }

    /// <summary>(exit code, one line) of a failure, as <see cref="Program.Main"/> reports it in one process.</summary>
    internal static (int ExitCode, string Message) Describe(Exception e) =>
        Program.IsUserError(e) ? (1, $"dro: {CliErrors.OneLine(e)}") : (2, $"dro: internal error: {e}");
}
