namespace DroSharp.Distributed;

/// <summary>The MPI library could not be loaded or initialised, or an MPI call returned an error.</summary>
public sealed class MpiException : Exception
{
    public MpiException(string message) : base(message) { }

    public MpiException(string message, Exception inner) : base(message, inner) { }
}
