namespace DroSharp.Fuzz;

/// <summary>
/// A directory of this process for parsers that read a path (safetensors, GGUF, model directories): each
/// execution writes its bytes there. On /dev/shm when it exists, so the writes stay in memory.
/// </summary>
internal static class ScratchDirectory
{
    private static readonly Lazy<string> s_path = new(() =>
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string dir = Path.Combine(root, $"drosharp-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return dir;
    });

    public static string Path_ => s_path.Value;

    /// <summary>Writes <paramref name="bytes"/> as <paramref name="name"/> in a fresh subdirectory (old files removed) and returns the subdirectory.</summary>
    public static string WriteOnly(string name, byte[] bytes)
    {
        string dir = Path.Combine(Path_, "case");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name), bytes);
        return dir;
    }
}
