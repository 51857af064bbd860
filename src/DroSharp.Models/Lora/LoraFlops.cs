using DroSharp.Tensors;
using DroSharp.Tensors.Modules;

namespace DroSharp.Models.Lora;

/// <summary>Matrix-product FLOPs of LoRA-adapted models, for <see cref="MatmulFlops"/>.</summary>
public static class LoraFlops
{
    /// <summary>
    /// <paramref name="baseFlops"/> with its projections counted as frozen when no parameter of
    /// <paramref name="baseParameters"/> trains, plus the adapters' products.
    /// </summary>
    public static MatmulFlops Adapted(MatmulFlops baseFlops, ParameterSet baseParameters, IReadOnlyList<Linear> linears, IReadOnlyList<LoraAdapter> adapters) =>
        Adapted(baseFlops, baseFrozen: !baseParameters.All.Any(p => p.RequiresGrad), linears, adapters);

    /// <summary><paramref name="baseFlops"/> with its projections counted as frozen when <paramref name="baseFrozen"/>, plus the adapters' products.</summary>
    public static MatmulFlops Adapted(MatmulFlops baseFlops, bool baseFrozen, IReadOnlyList<Linear> linears, IReadOnlyList<LoraAdapter> adapters) =>
        (baseFrozen ? baseFlops.WithProjectionsFrozen() : baseFlops) + Adapters(baseFlops.Projections + baseFlops.FrozenProjections, linears, adapters);

    /// <summary>
    /// The adapters' products, 2·rows·r·(in + out) each (trainable: 3× in forward and backward), with the
    /// rows a module sees estimated as <paramref name="baseProjections"/> / Σ 2·in·out over
    /// <paramref name="linears"/>: exact when every module sees every row and nothing else projects, an
    /// over-estimate by the LM head's share otherwise (a few percent of a few percent of the step).
    /// </summary>
    public static MatmulFlops Adapters(double baseProjections, IReadOnlyList<Linear> linears, IReadOnlyList<LoraAdapter> adapters)
    {
        if (adapters.Count == 0 || linears.Count == 0) return default;
        double perRow = linears.Sum(l => 2.0 * l.InFeatures * l.OutFeatures);
        double rows = baseProjections / perRow;
        // The adapted modules are the blocks' projections (an adapter on the LM head, where there is one, is
        // counted as in a block too: a few percent of a few percent of the recomputed work).
        return MatmulFlops.Blocks(rows * adapters.Sum(a => 2.0 * a.Rank * (a.Module.InFeatures + a.Module.OutFeatures)), 0);
    }
}
