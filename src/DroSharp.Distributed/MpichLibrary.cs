namespace DroSharp.Distributed;

/// <summary>
/// The MPICH ABI (libmpich.so.12, shared by Intel MPI and MVAPICH as libmpi.so.12): MPI_Comm,
/// MPI_Datatype and MPI_Op are ints with fixed values (mpi.h: MPI_COMM_WORLD 0x44000000,
/// MPI_BYTE 0x4c00010d, MPI_FLOAT 0x4c00040a, MPI_DOUBLE 0x4c00080b, MPI_SUM 0x58000003);
/// <c>#define MPI_IN_PLACE (void *) -1</c>.
/// </summary>
internal sealed unsafe class MpichLibrary : MpiLibrary
{
    private const int CommWorld = 0x44000000;
    private const int ByteType = 0x4c00010d;
    private const int FloatType = 0x4c00040a;
    private const int DoubleType = 0x4c00080b;
    private const int Sum = 0x58000003;
    private static readonly void* InPlace = (void*)-1;

    private readonly delegate* unmanaged<int, int*, int> _commRank;
    private readonly delegate* unmanaged<int, int*, int> _commSize;
    private readonly delegate* unmanaged<void*, void*, int, int, int, int, int> _allreduce;
    private readonly delegate* unmanaged<void*, int*, int*, int, void*, int*, int*, int, int, int> _alltoallv;
    private readonly delegate* unmanaged<void*, int, int, void*, int*, int*, int, int, int> _allgatherv;
    private readonly delegate* unmanaged<void*, int, int, int, int, int> _bcast;
    private readonly delegate* unmanaged<int, int> _barrier;
    private readonly delegate* unmanaged<int, int, int> _abort;

    public MpichLibrary(nint handle, string path) : base(handle, path)
    {
        _commRank = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<void*, void*, int, int, int, int, int>)Export("MPI_Allreduce");
        _alltoallv = (delegate* unmanaged<void*, int*, int*, int, void*, int*, int*, int, int, int>)Export("MPI_Alltoallv");
        _allgatherv = (delegate* unmanaged<void*, int, int, void*, int*, int*, int, int, int>)Export("MPI_Allgatherv");
        _bcast = (delegate* unmanaged<void*, int, int, int, int, int>)Export("MPI_Bcast");
        _barrier = (delegate* unmanaged<int, int>)Export("MPI_Barrier");
        _abort = (delegate* unmanaged<int, int, int>)Export("MPI_Abort");
    }

    public override string Abi => "MPICH";

    /// <summary>MPICH and its ABI-compatible derivatives name themselves in MPI_Get_library_version.</summary>
    public static bool IsMpichAbi(string libraryVersion) =>
        libraryVersion.Contains("MPICH", StringComparison.OrdinalIgnoreCase)
        || libraryVersion.Contains("MVAPICH", StringComparison.OrdinalIgnoreCase)
        || libraryVersion.Contains("Intel(R) MPI", StringComparison.OrdinalIgnoreCase);

    public override int CommRank()
    {
        int rank;
        Check(_commRank(CommWorld, &rank), "MPI_Comm_rank");
        return rank;
    }

    public override int CommSize()
    {
        int size;
        Check(_commSize(CommWorld, &size), "MPI_Comm_size");
        return size;
    }

    public override void AllreduceSumInPlace(void* buffer, int count, MpiDatatype type) =>
        Check(_allreduce(InPlace, buffer, count, Type(type), Sum, CommWorld), "MPI_Allreduce");

    public override void Alltoallv(void* send, int* sendCounts, int* sendDispls,
        void* receive, int* receiveCounts, int* receiveDispls, MpiDatatype type) =>
        Check(_alltoallv(send, sendCounts, sendDispls, Type(type), receive, receiveCounts, receiveDispls, Type(type), CommWorld),
            "MPI_Alltoallv");

    public override void AllgathervInPlace(void* buffer, int* counts, int* displs, MpiDatatype type) =>
        Check(_allgatherv(InPlace, 0, Type(type), buffer, counts, displs, Type(type), CommWorld), "MPI_Allgatherv");

    public override void Bcast(void* buffer, int count, MpiDatatype type, int root) =>
        Check(_bcast(buffer, count, Type(type), root, CommWorld), "MPI_Bcast");

    public override void Barrier() => Check(_barrier(CommWorld), "MPI_Barrier");

    public override void Abort(int code) => Check(_abort(CommWorld, code), "MPI_Abort");

    private static int Type(MpiDatatype type) => type switch
    {
        MpiDatatype.Byte => ByteType,
        MpiDatatype.Float => FloatType,
        MpiDatatype.Double => DoubleType,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
