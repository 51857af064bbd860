using System.Diagnostics;

namespace DroSharp.Cli.Tests;

/// <summary>Runs <c>dro</c> as a child process (for signals, and for another user's permissions), capturing its output.</summary>
internal sealed class ChildDro : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _err = new(), _out = new();

    private ChildDro(Process process)
    {
        _process = process;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    /// <summary>The dro.dll next to the tests (the CLI project's output is copied with its reference).</summary>
    public static string DroDll => Path.Combine(AppContext.BaseDirectory, "dro.dll");

    /// <param name="asNobody">Run as uid/gid 65534 through setpriv (for permission tests when the tests run as root).</param>
    public static ChildDro Start(string[] args, bool asNobody = false)
    {
        var psi = new ProcessStartInfo { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        if (asNobody)
        {
            psi.FileName = "setpriv";
            foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--", "dotnet", DroDll }) psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = Path.GetTempPath();
            psi.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        }
        else
        {
            psi.FileName = "dotnet";
            psi.ArgumentList.Add(DroDll);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        return new ChildDro(Process.Start(psi)!);
    }

    public int Id => _process.Id;

    public string Err { get { lock (_err) return _err.ToString(); } }

    public string Out { get { lock (_out) return _out.ToString(); } }

    /// <summary>Waits until stderr contains <paramref name="text"/> (or the process ends, or <paramref name="timeout"/> passes).</summary>
    public bool WaitForErr(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Err.Contains(text, StringComparison.Ordinal)) return true;
            if (_process.HasExited) return Err.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>Sends a POSIX signal (TERM, INT) with kill(1).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) { _process.Kill(entireProcessTree: true); throw new TimeoutException($"dro did not exit within {timeout}\n{Err}"); }
        _process.WaitForExit(); // drains the output
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    /// <summary>Runs a command to its end (used to probe whether setpriv and a readable dro.dll are available).</summary>
    public static int Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }
}
