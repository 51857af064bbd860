namespace DroSharp.Alignment.Objectives;

/// <summary>
/// The loss of one micro-batch and its gradients with respect to the inputs that carry one. The trainer
/// backpropagates them through the networks: <c>tape.Backward(logp, dlogp)</c> for the policy and
/// <c>tape.Backward(v, dv)</c> for the value network.
/// </summary>
public sealed class ObjectiveResult
{
    /// <summary>The micro-batch loss (a mean over the micro-batch).</summary>
    public required double Loss { get; init; }

    /// <summary>
    /// ∂L/∂log πθ(yᵢ|xᵢ) [B]. For DRO-V and DRO-P it is the paper's rescaled policy gradient (Eq. 8 × 1/τ)
    /// unless the objective was built without rescaling; that rescaling does not move stationary points.
    /// </summary>
    public required double[] PolicyLogProbGradient { get; init; }

    /// <summary>∂L/∂V(xᵢ) [B] (S1 Eq. 7, batch mean), or null when the objective has no value.</summary>
    public double[]? ValueGradient { get; init; }

    /// <summary>Metrics with TRL's names, as sums and weights so micro-batches can be merged.</summary>
    public required ObjectiveMetrics Metrics { get; init; }

    /// <summary>Σᵢ ∂L/∂Vᵢ: the gradient of a single shared value scalar (<see cref="DroValueMode.Single"/>).</summary>
    public double ValueGradientSum
    {
        get
        {
            if (ValueGradient is null) throw new InvalidOperationException("this objective has no value gradient");
            double s = 0;
            foreach (double g in ValueGradient) s += g;
            return s;
        }
    }
}
