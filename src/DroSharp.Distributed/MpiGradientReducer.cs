using System.Numerics;
using System.Runtime.InteropServices;
using DroSharp.Tensors.Distributed;

namespace DroSharp.Distributed;

/// <summary>
/// <see cref="IGradientReducer"/> over MPI_COMM_WORLD. Made by <see cref="DistributedEnvironment.Create"/>
/// under an MPI launcher; MPI is initialised (MPI_Init_thread, MPI_THREAD_SERIALIZED) when it is made
/// and finalised (MPI_Finalize) by <see cref="Dispose"/>, once per process. Calls may come from any
/// thread, one at a time (a lock serialises them). Float and double sums follow
/// <see cref="MpiReducerOptions.Summation"/>: by default rank-ordered, so a result is the same bits on
/// every rank and in every run with the same rank count. While it lives, an unhandled exception on any
/// thread ends the whole job through <see cref="Abort"/>.
/// </summary>
public sealed unsafe class MpiGradientReducer : IGradientReducer
{
    /// <summary>Exit code of a job ended by an unhandled exception (dro's code for an internal fault).</summary>
    public const int UnhandledExceptionExitCode = 2;

    private static readonly TimeSpan AbortMessageDelay = TimeSpan.FromMilliseconds(500);

    // MPI may be initialised once per process, and never again after MPI_Finalize.
    private static int s_created;

    private readonly MpiLibrary _library;
    private readonly bool _ownsInitialization;
    private readonly Lock _gate = new();
    // Per chunk: the rank blocks of the buffer (counts, displs) and where each rank's copy of this
    // rank's block lands in the scratch buffer (receiveCounts, receiveDispls).
    private readonly int[] _counts, _displs, _receiveCounts, _receiveDispls;
    private readonly UnhandledExceptionEventHandler _onUnhandledException;
    private void* _scratch;
    private nuint _scratchBytes;
    private bool _disposed;

    internal MpiGradientReducer(MpiLibrary library, MpiReducerOptions options, RuntimeSignalHandlers? signalHandlers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkElements, 1, nameof(options.ChunkElements));
        if (Interlocked.Exchange(ref s_created, 1) != 0)
            throw new MpiException("MPI can be initialised once per process: create one MpiGradientReducer and keep it for the whole run");
        _library = library;
        Summation = options.Summation;
        ChunkElements = options.ChunkElements;
        if (library.Finalized()) throw new MpiException("MPI was already finalised in this process and cannot be initialised again");
        if (!library.Initialized())
        {
            ThreadLevel = library.InitThread(MpiLibrary.ThreadSerialized);
            _ownsInitialization = true;
        }
        else
        {
            ThreadLevel = -1; // initialised by someone else, who also finalises
        }
        signalHandlers?.Restore(); // .NET's SIGSEGV handler, not the MPI library's crash reporter
        Rank = library.CommRank();
        WorldSize = library.CommSize();
        LibraryVersion = library.LibraryVersion();
        _counts = new int[WorldSize];
        _displs = new int[WorldSize];
        _receiveCounts = new int[WorldSize];
        _receiveDispls = new int[WorldSize];
        _onUnhandledException = (_, e) =>
            Abort(UnhandledExceptionExitCode, $"unhandled exception: {e.ExceptionObject}");
        AppDomain.CurrentDomain.UnhandledException += _onUnhandledException;
    }

    public int Rank { get; }

    public int WorldSize { get; }

    public MpiSummation Summation { get; }

    /// <summary>Most elements per MPI call (see <see cref="MpiReducerOptions.ChunkElements"/>).</summary>
    public int ChunkElements { get; }

    /// <summary>
    /// The thread support MPI_Init_thread granted: 2 = MPI_THREAD_SERIALIZED (Open MPI and MPICH grant
    /// it); with less, call the reducer from the thread that made it. −1 if MPI was initialised elsewhere.
    /// </summary>
    public int ThreadLevel { get; }

    /// <summary>"Open MPI" or "MPICH".</summary>
    public string Abi => _library.Abi;

    /// <summary>The library as loaded (name or path).</summary>
    public string LibraryPath => _library.Path;

    /// <summary>MPI_Get_library_version, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, …".</summary>
    public string LibraryVersion { get; }

    public void SumInPlace(Span<float> values) => Sum(values, MpiDatatype.Float);

    public void SumInPlace(Span<double> values) => Sum(values, MpiDatatype.Double);

    public void Broadcast(Span<byte> values)
    {
        ThrowIfDisposed();
        if (WorldSize == 1 || values.IsEmpty) return;
        lock (_gate)
        {
            fixed (byte* p = values)
            {
                for (int start = 0; start < values.Length;)
                {
                    int n = Math.Min(ChunkElements, values.Length - start);
                    _library.Bcast(p + start, n, MpiDatatype.Byte, root: 0);
                    start += n;
                }
            }
        }
    }

    public void Barrier()
    {
        ThrowIfDisposed();
        lock (_gate) _library.Barrier();
    }

    /// <summary>
    /// Writes "[rank r of N] message" to stderr (flushed, stdout too), waits half a second for the
    /// launcher to forward it, then MPI_Abort(MPI_COMM_WORLD, code): the launcher kills every rank and
    /// exits non-zero (Open MPI's mpirun and MPICH's Hydra with this code).
    /// Code 0 becomes 1 (an abort is a failure). Never returns. Takes no lock: it may come from a
    /// thread other than the one blocked in a collective.
    /// </summary>
    public void Abort(int exitCode, string message)
    {
        int code = exitCode == 0 ? 1 : exitCode;
        try
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"[rank {Rank} of {WorldSize}] {message}");
            Console.Error.Flush();
        }
        catch (IOException)
        {
            // stderr closed: abort anyway
        }
        // The launcher forwards each rank's stderr through its own daemons and stops forwarding when
        // it kills the job: without a pause MPICH's Hydra sometimes drops the message.
        Thread.Sleep(AbortMessageDelay);
        if (!_disposed) _library.Abort(code); // after MPI_Finalize only this process can end
        Environment.Exit(code); // MPI_Abort returned (it should not): end this rank at least
    }

    private void Sum<T>(Span<T> values, MpiDatatype type)
        where T : unmanaged, IAdditionOperators<T, T, T>, IAdditiveIdentity<T, T>
    {
        ThrowIfDisposed();
        if (WorldSize == 1 || values.IsEmpty) return;
        lock (_gate)
        {
            fixed (T* p = values)
            {
                for (int start = 0; start < values.Length;)
                {
                    int n = Math.Min(ChunkElements, values.Length - start);
                    if (Summation == MpiSummation.Library) _library.AllreduceSumInPlace(p + start, n, type);
                    else SumRankOrdered(p + start, n, type);
                    start += n;
                }
            }
        }
    }

    /// <summary>
    /// One chunk of n elements: rank j owns block j (<see cref="BlockSplit.Blocks"/>); MPI_Alltoallv
    /// brings every rank's copy of this rank's block into the scratch buffer in rank order; they are
    /// added in rank order into the block; MPI_Allgatherv (in place) hands every block to every rank.
    /// </summary>
    private void SumRankOrdered<T>(T* buffer, int n, MpiDatatype type)
        where T : unmanaged, IAdditionOperators<T, T, T>, IAdditiveIdentity<T, T>
    {
        BlockSplit.Blocks(n, _counts, _displs);
        int m = _counts[Rank];
        for (int i = 0; i < WorldSize; i++)
        {
            _receiveCounts[i] = m;
            _receiveDispls[i] = i * m;
        }
        long received = (long)WorldSize * m; // ≤ n + WorldSize − 1
        T* scratch = (T*)Scratch((nuint)received * (nuint)sizeof(T));
        fixed (int* counts = _counts, displs = _displs, receiveCounts = _receiveCounts, receiveDispls = _receiveDispls)
        {
            _library.Alltoallv(buffer, counts, displs, scratch, receiveCounts, receiveDispls, type);
            RankOrderedSum.Add(new ReadOnlySpan<T>(scratch, (int)received), WorldSize, new Span<T>(buffer + displs[Rank], m));
            _library.AllgathervInPlace(buffer, counts, displs, type);
        }
    }

    private void* Scratch(nuint bytes)
    {
        if (bytes <= _scratchBytes) return _scratch;
        if (_scratch != null) NativeMemory.AlignedFree(_scratch);
        _scratch = null;
        _scratchBytes = 0;
        _scratch = NativeMemory.AlignedAlloc(Math.Max(bytes, 64), 64);
        _scratchBytes = bytes;
        return _scratch;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>MPI_Finalize (when this reducer initialised MPI). Every rank must get here, or none.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            AppDomain.CurrentDomain.UnhandledException -= _onUnhandledException;
            if (_ownsInitialization && !_library.Finalized()) _library.FinalizeMpi();
            if (_scratch != null) NativeMemory.AlignedFree(_scratch);
            _scratch = null;
            _scratchBytes = 0;
        }
    }
}
