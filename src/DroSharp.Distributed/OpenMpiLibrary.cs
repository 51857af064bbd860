namespace DroSharp.Distributed;

/// <summary>
/// Open MPI's ABI (libmpi.so.40): MPI_Comm, MPI_Datatype and MPI_Op are pointers, and the
/// predefined handles are the addresses of exported globals (mpi.h:
/// <c>#define MPI_COMM_WORLD OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)</c>);
/// <c>#define MPI_IN_PLACE ((void *) 1)</c>.
/// </summary>
internal sealed unsafe class OpenMpiLibrary : MpiLibrary
{
    private static readonly void* InPlace = (void*)1;

    private readonly nint _commWorld, _byte, _float, _double, _sum;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<void*, int*, int*, nint, void*, int*, int*, nint, nint, int> _alltoallv;
    private readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int> _allgatherv;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;

    public OpenMpiLibrary(nint handle, string path) : base(handle, path)
    {
        _commWorld = Export("ompi_mpi_comm_world");
        _byte = Export("ompi_mpi_byte");
        _float = Export("ompi_mpi_float");
        _double = Export("ompi_mpi_double");
        _sum = Export("ompi_mpi_op_sum");
        _commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        _alltoallv = (delegate* unmanaged<void*, int*, int*, nint, void*, int*, int*, nint, nint, int>)Export("MPI_Alltoallv");
        _allgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int>)Export("MPI_Allgatherv");
        _bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        _barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
    }

    public override string Abi => "Open MPI";

    public override int CommRank()
    {
        int rank;
        Check(_commRank(_commWorld, &rank), "MPI_Comm_rank");
        return rank;
    }

    public override int CommSize()
    {
        int size;
        Check(_commSize(_commWorld, &size), "MPI_Comm_size");
        return size;
    }

    public override void AllreduceSumInPlace(void* buffer, int count, MpiDatatype type) =>
        Check(_allreduce(InPlace, buffer, count, Type(type), _sum, _commWorld), "MPI_Allreduce");

    public override void Alltoallv(void* send, int* sendCounts, int* sendDispls,
        void* receive, int* receiveCounts, int* receiveDispls, MpiDatatype type) =>
        Check(_alltoallv(send, sendCounts, sendDispls, Type(type), receive, receiveCounts, receiveDispls, Type(type), _commWorld),
            "MPI_Alltoallv");

    public override void AllgathervInPlace(void* buffer, int* counts, int* displs, MpiDatatype type) =>
        Check(_allgatherv(InPlace, 0, Type(type), buffer, counts, displs, Type(type), _commWorld), "MPI_Allgatherv");

    public override void Bcast(void* buffer, int count, MpiDatatype type, int root) =>
        Check(_bcast(buffer, count, Type(type), root, _commWorld), "MPI_Bcast");

    public override void Barrier() => Check(_barrier(_commWorld), "MPI_Barrier");

    public override void Abort(int code) => Check(_abort(_commWorld, code), "MPI_Abort");

    private nint Type(MpiDatatype type) => type switch
    {
        MpiDatatype.Byte => _byte,
        MpiDatatype.Float => _float,
        MpiDatatype.Double => _double,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
