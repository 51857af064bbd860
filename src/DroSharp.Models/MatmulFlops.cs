namespace DroSharp.Models;

/// <summary>
/// Floating-point operations of the matrix products of one forward pass (2 per multiply-add), split
/// into the projections (Linear layers and the LM head: their backward costs 2× the forward, dX and dW)
/// and attention's score and value products (causal rows count only the keys they see; the backward
/// recomputes the scores, so it costs 2.5× the forward), and the projections of frozen weights
/// (a LoRA base: their backward is dX only, 1× the forward). Element-wise work, norms, softmax and
/// embedding gathers are not counted, nor a forward recomputed by activation checkpointing.
/// </summary>
public readonly record struct MatmulFlops(double Projections, double Attention, double FrozenProjections = 0)
{
    public double Forward => Projections + Attention + FrozenProjections;

    /// <summary>Forward and backward of a trained network: 3× the projections, 3.5× attention, 2× the frozen projections.</summary>
    public double ForwardAndBackward => 3 * Projections + 3.5 * Attention + 2 * FrozenProjections;

    public static MatmulFlops operator +(MatmulFlops a, MatmulFlops b) =>
        new(a.Projections + b.Projections, a.Attention + b.Attention, a.FrozenProjections + b.FrozenProjections);
}
