namespace DroSharp.Tensors.Threading;

/// <summary>
/// A unit of parallel work: a struct (so that dispatching it allocates nothing) that processes the
/// half-open index range [start, end). Each index must be processed independently of the others.
/// </summary>
public interface IParallelJob
{
    void Execute(int start, int end);
}
