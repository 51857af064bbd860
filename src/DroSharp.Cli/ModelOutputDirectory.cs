namespace DroSharp.Cli;

/// <summary>
/// A model directory a command creates (<c>dro init --out</c>): refused when it is a file or a non-empty directory
/// (unless forced), and written all-or-nothing: into a temporary sibling, which replaces the target only once complete.
/// </summary>
internal static class ModelOutputDirectory
{
    public static void Check(string path, bool force)
    {
        if (File.Exists(path)) throw new UserErrorException($"--out {path} is a file; a model is written to a directory");
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any() && !force)
        {
            var names = Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(4).ToList();
            throw new UserErrorException($"--out {path} is not empty (it holds {string.Join(", ", names)}{(names.Count == 4 ? ", …" : "")}); " +
                                         "give --force to replace it, or another --out");
        }
    }

    public static void Write(string path, Action<string> write)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}");
        try
        {
            write(tmp);
            if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
            Directory.Move(tmp, full);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }
}
