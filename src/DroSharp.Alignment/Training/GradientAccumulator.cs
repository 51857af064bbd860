using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Training;

/// <summary>
/// Gradient accumulation in which every micro-batch's gradient is formed on its own, from zero, and
/// then added to the step's sum in one addition per element:
/// <code>
/// G = ((g₀ + g₁) + g₂) + …        g_k = the whole backward of micro-batch k
/// </code>
/// rather than letting micro-batch k's backward add its pieces straight into G (G + c_k1 + c_k2 + …,
/// which rounds differently wherever a parameter receives several pieces per backward: a GEMM with
/// more than one k block, an embedding row used twice, tied weights). With it, one process running
/// N micro-batches per step makes the same bits as N processes running one each, whose gradients the
/// rank-ordered all-reduce sums as g₀ + g₁ + … in the same order. The price is one extra gradient
/// buffer per trainable parameter, allocated only when a process runs more than one micro-batch per step.
/// </summary>
internal sealed class GradientAccumulator : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly Tensor?[] _spare; // zeroed buffers the next micro-batch's backward writes into
    private readonly Tensor?[] _sum;   // during micro-batch k ≥ 1: Σ of the earlier ones

    public GradientAccumulator(IEnumerable<Tensor> trainable)
    {
        _parameters = trainable.ToArray();
        _spare = new Tensor?[_parameters.Length];
        _sum = new Tensor?[_parameters.Length];
    }

    /// <summary>Before micro-batch <paramref name="index"/> (0-based within this process's step) runs its backward.</summary>
    public void Begin(int index)
    {
        if (index == 0) return; // the gradients are zero (or absent): the backward writes g₀ itself
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            _sum[i] = p.Grad;
            // No gradient yet: leave none, so the backward makes g_k = 0 + g_k itself (or none at all).
            if (p.Grad is null) continue;
            p.Grad = _spare[i] ?? Tensor.Zeros(p.Shape);
            _spare[i] = null;
        }
    }

    /// <summary>After micro-batch <paramref name="index"/>: G ← G + g_k, and the buffer of g_k is zeroed for the next one.</summary>
    public void End(int index)
    {
        if (index == 0) return;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (_sum[i] is { } sum)
            {
                var g = p.Grad!;
                TensorPrimitives.Add(sum.Span, g.Span, sum.Span);
                g.Clear();
                _spare[i] = g;
                p.Grad = sum;
            }
            // else: no gradient before this micro-batch; p.Grad (g_k or none) is the sum so far.
            _sum[i] = null;
        }
    }

    public void Dispose()
    {
        foreach (var t in _spare) t?.Dispose();
        Array.Clear(_spare);
    }
}
