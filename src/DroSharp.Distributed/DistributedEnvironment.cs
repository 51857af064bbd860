using DroSharp.Tensors.Distributed;

namespace DroSharp.Distributed;

/// <summary>
/// Chooses the gradient reducer for this process: MPI under an MPI launcher (<c>mpirun</c>,
/// <c>mpiexec</c>, <c>srun --mpi=…</c>), else the one-process <see cref="LocalGradientReducer"/>, so a
/// plain run needs no MPI library. The CLI's pattern:
/// <code>
/// using var reducer = DistributedEnvironment.Create();
/// return reducer.RunGuarded(() =&gt; Train(…, reducer), e =&gt; (IsUserError(e) ? 1 : 2, "dro: " + …));
/// </code>
/// </summary>
public static class DistributedEnvironment
{
    /// <summary>Environment variable naming the MPI library to load (a path or a name dlopen finds).</summary>
    public const string LibraryVariable = "DROSHARP_MPI_LIBRARY";

    /// <summary>The launcher this process runs under, from its environment.</summary>
    public static MpiLauncher DetectLauncher() => DetectLauncher(Environment.GetEnvironmentVariable);

    /// <summary>
    /// Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE (and PMIX_RANK); MPICH's Hydra and Slurm's PMI-2
    /// set PMI_SIZE / PMI_RANK; PMIx launchers set PMIX_RANK. Checked in that order.
    /// </summary>
    internal static MpiLauncher DetectLauncher(Func<string, string?> environment)
    {
        if (IsSet(environment, "OMPI_COMM_WORLD_SIZE")) return MpiLauncher.OpenMpi;
        if (IsSet(environment, "PMI_SIZE") || IsSet(environment, "PMI_RANK")) return MpiLauncher.Pmi;
        if (IsSet(environment, "PMIX_RANK")) return MpiLauncher.Pmix;
        return MpiLauncher.None;
    }

    /// <summary>
    /// The libraries to try, in order: an explicit path alone, else the launcher's own library first
    /// (Open MPI 4/5: libmpi.so.40; MPICH 3/4: libmpich.so.12; Intel MPI, MVAPICH: libmpi.so.12).
    /// </summary>
    internal static IReadOnlyList<string> LibraryCandidates(MpiLauncher launcher, string? explicitLibrary)
    {
        if (!string.IsNullOrWhiteSpace(explicitLibrary)) return [explicitLibrary];
        return launcher switch
        {
            MpiLauncher.Pmi => ["libmpich.so.12", "libmpi.so.12", "libmpi.so.40"],
            _ => ["libmpi.so.40", "libmpich.so.12", "libmpi.so.12"],
        };
    }

    /// <summary>
    /// <see cref="LocalGradientReducer.Instance"/> without an MPI launcher; under one, loads the MPI
    /// library, initialises MPI and returns an <see cref="MpiGradientReducer"/> (dispose it at the end:
    /// MPI_Finalize). Throws <see cref="MpiException"/> with a one-line reason when the process runs
    /// under a launcher but no MPI library can be loaded or MPI cannot be initialised.
    /// </summary>
    public static IGradientReducer Create(MpiReducerOptions? options = null) =>
        Create(options ?? new MpiReducerOptions(), Environment.GetEnvironmentVariable);

    internal static IGradientReducer Create(MpiReducerOptions options, Func<string, string?> environment)
    {
        var launcher = DetectLauncher(environment);
        if (launcher == MpiLauncher.None) return LocalGradientReducer.Instance;
        string? explicitLibrary = options.LibraryPath ?? environment(LibraryVariable);
        var candidates = LibraryCandidates(launcher, explicitLibrary);
        var signalHandlers = RuntimeSignalHandlers.Save(); // before the library's constructors run
        var library = MpiLibrary.TryLoad(candidates, out string failure)
            ?? throw new MpiException(
                $"running under an MPI launcher ({Describe(launcher)}) but no MPI library could be loaded ({failure}); " +
                $"install Open MPI (Debian: apt-get install openmpi-bin) or set {LibraryVariable} to the path of libmpi.so");
        return new MpiGradientReducer(library, options, signalHandlers);
    }

    /// <summary>
    /// Runs <paramref name="body"/> so that one rank failing ends the whole job instead of leaving
    /// the others blocked in a collective. Without MPI (<see cref="LocalGradientReducer"/>) it is just
    /// <c>body()</c>: exceptions propagate. Under MPI: a body that returns 0 returns 0 (the caller
    /// then disposes the reducer: MPI_Finalize on every rank); an exception becomes
    /// <c>Abort(code, message)</c> with (code, message) from <paramref name="describeFailure"/>
    /// (default: 2 and the exception's text); a non-zero return becomes <c>Abort(code, …)</c> too,
    /// since the other ranks may be waiting for this one. Abort never returns.
    /// </summary>
    public static int RunGuarded(this IGradientReducer reducer, Func<int> body,
        Func<Exception, (int ExitCode, string Message)>? describeFailure = null)
    {
        ArgumentNullException.ThrowIfNull(reducer);
        ArgumentNullException.ThrowIfNull(body);
        if (reducer is not MpiGradientReducer) return body();
        int code;
        try
        {
            code = body();
        }
        catch (Exception e)
        {
            var (exitCode, message) = describeFailure?.Invoke(e) ?? (MpiGradientReducer.UnhandledExceptionExitCode, e.ToString());
            reducer.Abort(exitCode, message);
            throw; // not reached: Abort ends the process
        }
        if (code != 0) reducer.Abort(code, $"exited with code {code}; ending the job");
        return code;
    }

    private static bool IsSet(Func<string, string?> environment, string name) => !string.IsNullOrEmpty(environment(name));

    private static string Describe(MpiLauncher launcher) => launcher switch
    {
        MpiLauncher.OpenMpi => "Open MPI: OMPI_COMM_WORLD_SIZE is set",
        MpiLauncher.Pmi => "PMI: PMI_SIZE or PMI_RANK is set",
        MpiLauncher.Pmix => "PMIx: PMIX_RANK is set",
        _ => "none",
    };
}
