using System.Runtime.InteropServices;

namespace DroSharp.Distributed;

/// <summary>
/// .NET turns the hardware-exception signals (SIGSEGV on a null dereference, SIGFPE on an integer
/// division by zero, …) into managed exceptions through its own signal handlers. MPI libraries may
/// replace those handlers with crash reporters when they are loaded or initialised — MPICH over UCX
/// does (libucs, UCX_ERROR_SIGNALS), and a caught NullReferenceException then kills the process.
/// This saves the process's handlers before the MPI library is loaded and puts them back after
/// MPI_Init. The sigaction structures are kept as opaque bytes, so no layout is assumed; without
/// glibc's <c>libc.so.6</c> it does nothing.
/// </summary>
internal sealed unsafe class RuntimeSignalHandlers
{
    // SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV: the same numbers on Linux x64 and arm64.
    private static readonly int[] Signals = [4, 5, 7, 8, 11];
    private const int SigactionBytes = 256; // ≥ sizeof(struct sigaction) (152 with glibc)

    private readonly delegate* unmanaged<int, void*, void*, int> _sigaction;
    private readonly byte[] _saved;

    private RuntimeSignalHandlers(delegate* unmanaged<int, void*, void*, int> sigaction, byte[] saved)
    {
        _sigaction = sigaction;
        _saved = saved;
    }

    /// <summary>The current handlers, or null when they cannot be read.</summary>
    public static RuntimeSignalHandlers? Save()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out nint libc)) return null;
        if (!NativeLibrary.TryGetExport(libc, "sigaction", out nint address)) return null;
        var sigaction = (delegate* unmanaged<int, void*, void*, int>)address;
        var saved = new byte[Signals.Length * SigactionBytes];
        fixed (byte* p = saved)
        {
            for (int i = 0; i < Signals.Length; i++)
                if (sigaction(Signals[i], null, p + i * SigactionBytes) != 0) return null;
        }
        return new RuntimeSignalHandlers(sigaction, saved);
    }

    /// <summary>Reinstalls the saved handlers.</summary>
    public void Restore()
    {
        fixed (byte* p = _saved)
        {
            for (int i = 0; i < Signals.Length; i++)
                if (_sigaction(Signals[i], p + i * SigactionBytes, null) != 0)
                    throw new MpiException($"cannot restore the runtime's handler of signal {Signals[i]} after MPI_Init");
        }
    }
}
