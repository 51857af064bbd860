using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Lora;

/// <summary>A base model's incremental decoder run with an adapter selection active for every call.</summary>
internal sealed class AdaptedDecoder(IIncrementalDecoder inner, AdapterSelection selection) : IIncrementalDecoder
{
    public int BatchSize => inner.BatchSize;

    public Tensor Start()
    {
        using var _ = selection.Activate();
        return inner.Start();
    }

    public Tensor Step(int[] tokens)
    {
        using var _ = selection.Activate();
        return inner.Step(tokens);
    }

    public void Dispose() => inner.Dispose();
}
