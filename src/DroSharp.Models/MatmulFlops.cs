namespace DroSharp.Models;

/// <summary>
/// Floating-point operations of the matrix products of one forward pass (2 per multiply-add), split
/// into the projections (Linear layers and the LM head: their backward costs 2× the forward, dX and dW)
/// and attention's score and value products (causal rows count only the keys they see; the backward
/// recomputes the scores, so it costs 2.5× the forward), and the projections of frozen weights
/// (a LoRA base: their backward is dX only, 1× the forward). Element-wise work, norms, softmax and
/// embedding gathers are not counted. <see cref="InBlocks"/> is the part of <see cref="Forward"/> done
/// inside the layer blocks (not the LM head or a value head): what activation checkpointing runs a
/// second time in backward, the hardware's extra work. It is not in <see cref="ForwardAndBackward"/>,
/// so that count stays the model's FLOPs.
/// </summary>
public readonly record struct MatmulFlops(double Projections, double Attention, double FrozenProjections = 0, double InBlocks = 0)
{
    public double Forward => Projections + Attention + FrozenProjections;

    /// <summary>Forward and backward of a trained network: 3× the projections, 3.5× attention, 2× the frozen projections.</summary>
    public double ForwardAndBackward => 3 * Projections + 3.5 * Attention + 2 * FrozenProjections;

    /// <summary>All of this forward inside blocks (a layer stack's own count).</summary>
    public static MatmulFlops Blocks(double projections, double attention) => new(projections, attention, 0, projections + attention);

    /// <summary>The same products with the projections frozen (a LoRA base): forward unchanged, backward dX only.</summary>
    public MatmulFlops WithProjectionsFrozen() => new(0, Attention, FrozenProjections + Projections, InBlocks);

    public static MatmulFlops operator +(MatmulFlops a, MatmulFlops b) =>
        new(a.Projections + b.Projections, a.Attention + b.Attention, a.FrozenProjections + b.FrozenProjections, a.InBlocks + b.InBlocks);
}
