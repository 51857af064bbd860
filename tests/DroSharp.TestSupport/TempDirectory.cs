using System.Text;

namespace DroSharp.TestSupport;

/// <summary>A fresh, uniquely named directory under <see cref="System.IO.Path.GetTempPath"/>, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    /// <param name="prefix">The start of the directory's name (which test left it, should deletion fail).</param>
    public TempDirectory(string prefix = "drosharp-")
    {
        // Not Directory.CreateTempSubdirectory: that directory is mode 0700, and some tests run dro inside it
        // as another user ("nobody") to check permission errors on the files, not on the directory.
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> (a file or directory name, or a relative path) in this directory; creates nothing.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="content"/> as UTF-8 without a byte-order mark and returns the file's path.</summary>
    public string Write(string name, string content) => WriteBytes(name, Encoding.UTF8.GetBytes(content));

    /// <summary>Writes <paramref name="content"/> and returns the file's path.</summary>
    public string WriteBytes(string name, byte[] content)
    {
        string path = File(name);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Deletes the directory recursively; a directory already gone, or a file still held open, is not an error.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (DirectoryNotFoundException) { }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
