namespace DroSharp.Alignment.Training;

/// <summary>
/// The exclusive lock of a run directory: <c>RUN/.lock</c> held open with <see cref="FileShare.None"/> (on Linux and
/// macOS an advisory <c>flock(LOCK_EX)</c>, on Windows a sharing violation), so a second writer — another process or
/// another trainer in this one — is refused, and the operating system releases it when the process dies, even by
/// <c>kill -9</c>. The file itself stays; only the open handle is the lock.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = ".lock";

    private readonly FileStream _stream;

    private RunLock(string path, FileStream stream)
    {
        Path = path;
        _stream = stream;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>Takes the lock of <paramref name="runDirectory"/> (which must exist) or throws <see cref="TrainingException"/> naming the run.</summary>
    public static RunLock Acquire(string runDirectory)
    {
        string path = System.IO.Path.Combine(runDirectory, FileName);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return new RunLock(path, stream);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(path))
        {
            throw new TrainingException($"{runDirectory} is in use: another dro train is writing to it (it holds {path}); " +
                                        "wait for it to finish, or stop it, or choose another --out", e);
        }
    }

    public void Dispose() => _stream.Dispose();
}
