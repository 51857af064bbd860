namespace DroSharp.Cli;

/// <summary>
/// An output file written all-or-nothing: text goes to a temporary file beside the target, which replaces the target
/// only at <see cref="Commit"/>; on failure (or without a commit) the temporary is deleted and an existing target is
/// untouched. <see cref="Create"/> refuses a target that is one of the command's inputs.
/// </summary>
internal sealed class OutputFile : IDisposable
{
    private readonly string _target;
    private readonly string _temporary;
    private bool _committed;

    private OutputFile(string target, string temporary, StreamWriter writer)
    {
        _target = target;
        _temporary = temporary;
        Writer = writer;
    }

    public StreamWriter Writer { get; }

    /// <param name="option">The option naming the output, for messages (e.g. <c>--out</c>).</param>
    /// <param name="inputs">The command's input files (option name, path): none may be the output.</param>
    public static OutputFile Create(string path, string option, params (string Option, string Path)[] inputs)
    {
        string full = Path.GetFullPath(path);
        RefuseInput(full, option, inputs);
        if (Directory.Exists(full)) throw new UserErrorException($"{option} {path} is a directory; give a file name");
        string dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new UserErrorException($"{option} {path}: the directory {dir} does not exist");
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        return new OutputFile(full, tmp, new StreamWriter(stream, new System.Text.UTF8Encoding(false)));
    }

    /// <summary>Throws when <paramref name="full"/> is one of <paramref name="inputs"/> (same path after resolving links).</summary>
    public static void RefuseInput(string full, string option, params (string Option, string Path)[] inputs)
    {
        string target = Resolve(full);
        foreach (var (inputOption, input) in inputs)
            if (string.Equals(Resolve(Path.GetFullPath(input)), target, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
                throw new UserErrorException($"{option} {full} is also the {inputOption} input: writing it would destroy the input; choose another {option}");
    }

    private static string Resolve(string full)
    {
        try { return File.Exists(full) && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } t ? t.FullName : full; }
        catch (IOException) { return full; }
    }

    /// <summary>Flushes to disk and renames the temporary over the target.</summary>
    public void Commit()
    {
        Writer.Flush();
        ((FileStream)Writer.BaseStream).Flush(flushToDisk: true);
        Writer.Dispose();
        File.Move(_temporary, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        try { Writer.Dispose(); } catch (IOException) { } // e.g. the flush of a full disk: the original error is already on its way
        try { File.Delete(_temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
