using System.Runtime.InteropServices;
using System.Text;

namespace DroSharp.Distributed;

/// <summary>
/// The handful of MPI C functions the reducer calls, bound with <see cref="NativeLibrary"/> to an
/// already loaded library. The functions without handles are bound here; those taking a
/// communicator, datatype or operation differ by ABI and are bound by <see cref="OpenMpiLibrary"/>
/// (handles are addresses of exported globals: <c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>,
/// <c>ompi_mpi_op_sum</c>; MPI_IN_PLACE = (void*)1) and <see cref="MpichLibrary"/> (handles are int
/// constants; MPI_IN_PLACE = (void*)−1). Every call checks the return code (MPI_SUCCESS = 0).
/// </summary>
internal abstract unsafe class MpiLibrary
{
    /// <summary>MPI_THREAD_SERIALIZED (2 in both ABIs): any thread may call, one at a time.</summary>
    public const int ThreadSerialized = 2;

    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int*, byte***, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<byte*, int*, int> _getLibraryVersion;
    private readonly nint _handle;

    protected MpiLibrary(nint handle, string path)
    {
        _handle = handle;
        Path = path;
        _initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        _initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        _finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        _getLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_library_version");
    }

    /// <summary>The name or path the library was loaded from.</summary>
    public string Path { get; }

    /// <summary>"Open MPI" or "MPICH" (the ABI family, which includes Intel MPI and MVAPICH).</summary>
    public abstract string Abi { get; }

    /// <summary>
    /// Loads the first of <paramref name="candidates"/> that dlopen finds and binds it with the ABI
    /// its exports show: Open MPI if it exports <c>ompi_mpi_comm_world</c>, else the MPICH ABI if its
    /// version string names MPICH, MVAPICH or Intel MPI. Null (with the reasons) when none fits.
    /// </summary>
    public static MpiLibrary? TryLoad(IReadOnlyList<string> candidates, out string failure)
    {
        var reasons = new List<string>();
        foreach (var name in candidates)
        {
            if (!NativeLibrary.TryLoad(name, out nint handle))
            {
                reasons.Add($"{name}: not found or not loadable");
                continue;
            }
            try
            {
                if (NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _))
                {
                    failure = "";
                    return new OpenMpiLibrary(handle, name);
                }
                if (!NativeLibrary.TryGetExport(handle, "MPI_Init_thread", out _))
                {
                    reasons.Add($"{name}: exports no MPI_Init_thread, not an MPI library");
                    NativeLibrary.Free(handle);
                    continue;
                }
                var version = ReadLibraryVersion(handle);
                if (MpichLibrary.IsMpichAbi(version))
                {
                    failure = "";
                    return new MpichLibrary(handle, name);
                }
                reasons.Add($"{name}: neither Open MPI nor MPICH ABI ({FirstLine(version)})");
                NativeLibrary.Free(handle);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or MpiException)
            {
                reasons.Add($"{name}: {e.Message}");
                NativeLibrary.Free(handle);
            }
        }
        failure = string.Join("; ", reasons);
        return null;
    }

    public bool Initialized()
    {
        int flag;
        Check(_initialized(&flag), "MPI_Initialized");
        return flag != 0;
    }

    public bool Finalized()
    {
        int flag;
        Check(_finalized(&flag), "MPI_Finalized");
        return flag != 0;
    }

    /// <summary>MPI_Init_thread(NULL, NULL, required, &amp;provided); returns provided.</summary>
    public int InitThread(int required)
    {
        int provided;
        Check(_initThread(null, null, required, &provided), "MPI_Init_thread");
        return provided;
    }

    public void FinalizeMpi() => Check(_finalize(), "MPI_Finalize");

    /// <summary>MPI_Get_library_version: allowed before MPI_Init (MPI-3).</summary>
    public string LibraryVersion() => ReadVersion(_getLibraryVersion);

    public abstract int CommRank();

    public abstract int CommSize();

    /// <summary>MPI_Allreduce(MPI_IN_PLACE, buffer, count, type, MPI_SUM, MPI_COMM_WORLD).</summary>
    public abstract void AllreduceSumInPlace(void* buffer, int count, MpiDatatype type);

    /// <summary>MPI_Alltoallv on MPI_COMM_WORLD with the same datatype on both sides.</summary>
    public abstract void Alltoallv(void* send, int* sendCounts, int* sendDispls,
        void* receive, int* receiveCounts, int* receiveDispls, MpiDatatype type);

    /// <summary>MPI_Allgatherv(MPI_IN_PLACE, 0, type, buffer, counts, displs, type, MPI_COMM_WORLD).</summary>
    public abstract void AllgathervInPlace(void* buffer, int* counts, int* displs, MpiDatatype type);

    /// <summary>MPI_Bcast(buffer, count, type, root, MPI_COMM_WORLD).</summary>
    public abstract void Bcast(void* buffer, int count, MpiDatatype type, int root);

    public abstract void Barrier();

    /// <summary>MPI_Abort(MPI_COMM_WORLD, code): asks the launcher to kill every rank.</summary>
    public abstract void Abort(int code);

    protected nint Export(string name) => NativeLibrary.GetExport(_handle, name);

    protected static void Check(int rc, string function)
    {
        if (rc != 0) throw new MpiException($"{function} failed with MPI error code {rc}");
    }

    private static string ReadLibraryVersion(nint handle) =>
        ReadVersion((delegate* unmanaged<byte*, int*, int>)NativeLibrary.GetExport(handle, "MPI_Get_library_version"));

    private static string ReadVersion(delegate* unmanaged<byte*, int*, int> getLibraryVersion)
    {
        const int capacity = 8192; // MPI_MAX_LIBRARY_VERSION_STRING: 256 in Open MPI, 8192 in MPICH
        byte* buffer = stackalloc byte[capacity];
        int length = 0;
        Check(getLibraryVersion(buffer, &length), "MPI_Get_library_version");
        length = Math.Clamp(length, 0, capacity);
        var span = new ReadOnlySpan<byte>(buffer, length);
        int nul = span.IndexOf((byte)0);
        if (nul >= 0) span = span[..nul];
        return Encoding.UTF8.GetString(span).Trim();
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return nl < 0 ? s : s[..nl];
    }
}
