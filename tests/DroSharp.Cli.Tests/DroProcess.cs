using System.Diagnostics;
using System.Text;

namespace DroSharp.Cli.Tests;

/// <summary>What one launch of <c>dro</c> as a child process (alone or under mpirun) did.</summary>
internal sealed record DroProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    public override string ToString() =>
        $"exit {ExitCode}{(TimedOut ? " (timed out, killed)" : "")}\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

/// <summary>
/// Runs the built <c>dro.dll</c> in child processes: alone (<c>dotnet dro.dll …</c>) or as the ranks
/// of Open MPI's <c>mpirun --allow-run-as-root --oversubscribe</c>. Every launch has a timeout after
/// which the launcher and every process under it are killed, so no test can hang or leave ranks
/// behind. Each rank (and a lone process) runs one worker thread (<c>DROSHARP_THREADS=1</c>).
/// </summary>
internal static class DroProcess
{
    /// <summary>One application context of an MPMD launch: ranks running dro with these arguments.</summary>
    public sealed record MpiApp(int Ranks, string[] Args);

    /// <summary>Set to "optional" to skip the MPI tests when mpirun is not installed.</summary>
    public const string OptionalVariable = "DROSHARP_MPI_TESTS";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    public static string? MpiRun { get; } = FindOnPath("mpirun.openmpi") ?? FindOnPath("mpirun");

    public static bool MpiIsOptional =>
        string.Equals(Environment.GetEnvironmentVariable(OptionalVariable), "optional", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The CLI built beside the tests (the project reference copies dro.dll, dro.deps.json and
    /// dro.runtimeconfig.json into the test output), else the CLI project's own output.
    /// </summary>
    public static string DroDll { get; } = FindDroDll();

    /// <summary><c>dotnet dro.dll ARGS</c>.</summary>
    public static DroProcessResult Run(params string[] args) => RunWith(null, args);

    /// <summary><c>dotnet dro.dll ARGS</c>, calling <paramref name="onStarted"/> with the process once it runs.</summary>
    public static DroProcessResult RunWith(Action<Process>? onStarted, params string[] args) =>
        Start(DotNet, [DroDll, .. args], new Dictionary<string, string>(), onStarted);

    /// <summary><c>mpirun … -np N dotnet dro.dll ARGS</c>.</summary>
    public static DroProcessResult Mpi(int ranks, params string[] args) => StartMpi([new MpiApp(ranks, args)], onStarted: null);

    /// <summary>
    /// mpirun with one application context per app (MPMD, ranks numbered in order):
    /// <c>-np k₀ dotnet dro.dll ARGS₀ : -np k₁ dotnet dro.dll ARGS₁ …</c>; <paramref name="onStarted"/>
    /// gets mpirun's process once it runs.
    /// </summary>
    public static DroProcessResult StartMpi(IReadOnlyList<MpiApp> apps, Action<Process>? onStarted)
    {
        string mpirun = MpiRun ?? throw new InvalidOperationException(
            $"mpirun not found on PATH: install Open MPI (apt-get install -y openmpi-bin), or set {OptionalVariable}=optional to skip the MPI tests");
        var args = new List<string> { "--allow-run-as-root", "--oversubscribe", "-x", "DROSHARP_THREADS" };
        for (int i = 0; i < apps.Count; i++)
        {
            if (i > 0) args.Add(":");
            args.AddRange(["-np", apps[i].Ranks.ToString(), DotNet, DroDll, .. apps[i].Args]);
        }
        return Start(mpirun, args, new Dictionary<string, string>
        {
            // Open MPI's shared-memory transport copies large messages with process_vm_readv, which
            // container sandboxes may forbid; plain copies work everywhere.
            ["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none",
        }, onStarted);
    }

    private static DroProcessResult Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment,
        Action<Process>? onStarted = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["TERM"] = "dumb"; // Open MPI gives ranks a pty: no terminal escapes
        start.Environment["DROSHARP_THREADS"] = "1";
        start.Environment.Remove("DROSHARP_MPI_LIBRARY");
        foreach (var (name, value) in environment) start.Environment[name] = value;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool timedOut = false;
        try
        {
            onStarted?.Invoke(process);
            timedOut = !process.WaitForExit(DefaultTimeout);
        }
        finally
        {
            if (!process.HasExited)
            {
                try { process.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { } // ended meanwhile
                process.WaitForExit(10_000);
            }
        }
        if (!timedOut) process.WaitForExit(); // drains the output events
        lock (stdout) lock (stderr)
            return new DroProcessResult(timedOut ? -1 : process.ExitCode, stdout.ToString(), stderr.ToString(), timedOut);
    }

    private static string DotNet => FindOnPath("dotnet") ?? "dotnet";

    private static string FindDroDll()
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "dro.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "dro.runtimeconfig.json"))) return beside;
        // tests/DroSharp.Cli.Tests/bin/CONFIG/TFM/ → src/DroSharp.Cli/bin/CONFIG/TFM/dro.dll
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var config = tfm.Parent;
        for (var dir = config?.Parent; dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "DroSharp.Cli", "bin", config!.Name, tfm.Name, "dro.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"dro.dll is neither in {AppContext.BaseDirectory} nor in src/DroSharp.Cli/bin: build src/DroSharp.Cli first");
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
