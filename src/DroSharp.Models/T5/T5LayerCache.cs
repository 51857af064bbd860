namespace DroSharp.Models.T5;

/// <summary>One decoder block's caches while decoding: self-attention keys/values, growing by one
/// position per step, and cross-attention keys/values of the encoder output, computed once.</summary>
public sealed class T5LayerCache : IDisposable
{
    public T5LayerCache(int batch, int maxNewTokens, int promptLength, int innerDim)
    {
        Self = new KeyValueCache(batch, maxNewTokens, innerDim);
        Cross = new KeyValueCache(batch, promptLength, innerDim, fillOnce: true);
    }

    public KeyValueCache Self { get; }

    public KeyValueCache Cross { get; }

    public void Dispose()
    {
        Self.Dispose();
        Cross.Dispose();
    }
}
