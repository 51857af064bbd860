namespace DroSharp.Tensors.Distributed;

/// <summary>One process, no peers: every reduction is the identity.</summary>
public sealed class LocalGradientReducer : IGradientReducer
{
    public static LocalGradientReducer Instance { get; } = new();

    public int Rank => 0;
    public int WorldSize => 1;
    public void SumInPlace(Span<float> values) { }
    public void SumInPlace(Span<double> values) { }
    public void Broadcast(Span<byte> values) { }
    public void Barrier() { }
    public void Abort(int exitCode, string message) { }
    public void Dispose() { }
}
