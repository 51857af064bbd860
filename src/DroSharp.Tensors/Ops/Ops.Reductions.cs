namespace DroSharp.Tensors;

public static unsafe partial class Ops
{
    /// <summary>Sum over the last axis: [..., n] → [...] (e.g. per-token log-probs [B, T] → sequence log-probs [B]).</summary>
    public static Tensor SumLastAxis(Tensor x) => throw new NotImplementedException();

    /// <summary>Sum of all elements → [1].</summary>
    public static Tensor Sum(Tensor x) => throw new NotImplementedException();

    /// <summary>Mean of all elements → [1].</summary>
    public static Tensor Mean(Tensor x) => throw new NotImplementedException();

    /// <summary>
    /// Masked mean over the time axis: x [B, T, d], mask [B, T] (1 = real token, 0 = padding) →
    /// [B, d] = Σ_t mask·x / max(1, Σ_t mask). The value model pools the prompt's encoder states this way.
    /// </summary>
    public static Tensor MaskedMeanPool(Tensor x, Tensor mask) => throw new NotImplementedException();
}
