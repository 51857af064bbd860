using DroSharp.Tensors.Threading;

namespace DroSharp.Tensors.Optim;

/// <summary>Global-norm gradient clipping with PyTorch's <c>torch.nn.utils.clip_grad_norm_</c> semantics.</summary>
public static class GradientClipping
{
    /// <summary>
    /// The L2 norm of all gradients taken together, ‖(g₁, …, gₙ)‖₂ = sqrt(Σ_tensors Σ g²), the
    /// value TRL logs as <c>grad_norm</c>. Parameters without a gradient are skipped. Squares are
    /// summed in double, tensor by tensor in list order, each tensor in a fixed order that depends
    /// on nothing but the data.
    /// </summary>
    public static double GlobalNorm(IReadOnlyList<Tensor> parameters) => GlobalNorm(parameters, WorkerPool.Default);

    /// <summary>
    /// Computes the global norm (see <see cref="GlobalNorm(IReadOnlyList{Tensor})"/>) and, when it is
    /// finite, multiplies every gradient by min(1, maxNorm / (norm + 1e-6)), as clip_grad_norm_
    /// does (so a norm just below maxNorm is scaled by a factor just below 1 too). Returns the norm
    /// before clipping. A NaN or infinite norm is returned with the gradients left untouched: the
    /// caller decides (typically skips the step and reports it).
    /// </summary>
    public static double ClipGlobalNorm(IReadOnlyList<Tensor> parameters, double maxNorm) =>
        ClipGlobalNorm(parameters, maxNorm, WorkerPool.Default);

    internal static unsafe double GlobalNorm(IReadOnlyList<Tensor> parameters, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double sum = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Grad is not { } g) continue;
            sum += DeterministicSum.SumOfSquares(pool, g.Data, g.Length);
        }
        return Math.Sqrt(sum);
    }

    internal static unsafe double ClipGlobalNorm(IReadOnlyList<Tensor> parameters, double maxNorm, WorkerPool pool)
    {
        if (!(maxNorm > 0) || double.IsInfinity(maxNorm))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), $"max grad norm {maxNorm} must be finite and > 0");
        double norm = GlobalNorm(parameters, pool);
        if (!double.IsFinite(norm)) return norm;
        // torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to ≤ 1, in float32.
        float coef = (float)maxNorm / ((float)norm + 1e-6f);
        if (coef < 1f)
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                if (parameters[i].Grad is not { } g) continue;
                Elementwise.Run(pool, g.Length, new ScaleBody { X = g.Data, Factor = coef });
            }
        }
        return norm;
    }

    private unsafe struct ScaleBody : IElementwiseBody
    {
        public float* X;
        public float Factor;

        public void Apply<TL>(int i) where TL : struct, IFloatLanes<TL> =>
            TL.Store(X + i, TL.Multiply(TL.Load(X + i), TL.Broadcast(Factor)));
    }
}
