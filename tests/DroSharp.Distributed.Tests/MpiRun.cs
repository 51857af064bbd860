using System.Diagnostics;
using System.Text;

namespace DroSharp.Distributed.Tests;

/// <summary>What one launch of the probe under an MPI launcher did.</summary>
internal sealed record MpiRunResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed, bool TimedOut)
{
    public override string ToString() =>
        $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s{(TimedOut ? " (timed out, killed)" : "")}\n" +
        $"--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

/// <summary>
/// Launches <c>LAUNCHER … -np N dotnet DroSharp.Distributed.MpiProbe.dll ARGS</c> and waits at most a
/// timeout; on timeout the launcher and every process under it are killed, so no test can hang or
/// leave ranks behind.
/// </summary>
internal static class MpiRun
{
    /// <summary>Set to "optional" to skip the Open MPI tests when mpirun is not installed.</summary>
    public const string OptionalVariable = "DROSHARP_MPI_TESTS";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(180);

    public static string? OpenMpiLauncher { get; } = FindOnPath("mpirun.openmpi") ?? FindOnPath("mpirun");

    public static string? MpichLauncher { get; } = FindOnPath("mpirun.mpich") ?? FindOnPath("mpiexec.hydra");

    public static bool MpiIsOptional =>
        string.Equals(Environment.GetEnvironmentVariable(OptionalVariable), "optional", StringComparison.OrdinalIgnoreCase);

    public static string ProbePath => Path.Combine(AppContext.BaseDirectory, "DroSharp.Distributed.MpiProbe.dll");

    /// <summary>Open MPI's mpirun, as root in a container, with more ranks than cores allowed.</summary>
    public static MpiRunResult OpenMpi(int ranks, params string[] probeArguments) =>
        OpenMpiWithEnvironment(ranks, new Dictionary<string, string>(), probeArguments);

    /// <summary>As <see cref="OpenMpi"/>, with extra environment variables for mpirun and its ranks.</summary>
    public static MpiRunResult OpenMpiWithEnvironment(int ranks, IReadOnlyDictionary<string, string> environment, params string[] probeArguments)
    {
        string launcher = OpenMpiLauncher ?? throw new InvalidOperationException(
            $"mpirun not found on PATH: install Open MPI (apt-get install -y openmpi-bin), or set {OptionalVariable}=optional to skip the MPI tests");
        return Run(launcher, ["--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString()], probeArguments, DefaultTimeout, environment);
    }

    /// <summary>MPICH's Hydra launcher.</summary>
    public static MpiRunResult Mpich(int ranks, params string[] probeArguments) =>
        Run(MpichLauncher ?? throw new InvalidOperationException("MPICH's mpirun.mpich is not installed"),
            ["-np", ranks.ToString()], probeArguments, DefaultTimeout);

    public static MpiRunResult Run(string launcher, IEnumerable<string> launcherArguments, IEnumerable<string> probeArguments,
        TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(launcher)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in launcherArguments) start.ArgumentList.Add(a);
        start.ArgumentList.Add(FindOnPath("dotnet") ?? "dotnet");
        start.ArgumentList.Add(ProbePath);
        foreach (var a in probeArguments) start.ArgumentList.Add(a);
        start.Environment["TERM"] = "dumb"; // ranks' stdout is a pty under Open MPI: no terminal escapes
        // Open MPI's shared-memory transport copies large messages with process_vm_readv, which some
        // container sandboxes forbid; the tests' messages are small, so plain copies cost nothing.
        start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        start.Environment.Remove(DistributedEnvironment.LibraryVariable);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        var clock = Stopwatch.StartNew();
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool timedOut = !process.WaitForExit(timeout);
        if (timedOut)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { } // ended meanwhile
            process.WaitForExit(10_000);
        }
        else
        {
            process.WaitForExit(); // drains the output events
        }
        clock.Stop();
        lock (stdout) lock (stderr)
            return new MpiRunResult(timedOut ? -1 : process.ExitCode, stdout.ToString(), stderr.ToString(), clock.Elapsed, timedOut);
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
