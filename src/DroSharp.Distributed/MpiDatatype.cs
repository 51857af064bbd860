namespace DroSharp.Distributed;

/// <summary>The element types the reducer sends: MPI_BYTE, MPI_FLOAT, MPI_DOUBLE.</summary>
internal enum MpiDatatype
{
    Byte,
    Float,
    Double,
}
