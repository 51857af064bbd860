namespace DroSharp.Alignment.Objectives;

/// <summary>
/// DRO-V, Direct Reward Optimisation with a learned value (Richemond et al. 2024, Eq. 4; algorithms.md §2–3):
/// <code>
/// ℓᵢ   = log πθ(yᵢ|xᵢ) − log π_ref(yᵢ|xᵢ)
/// resᵢ = rᵢ − Vᵢ − τ·ℓᵢ
/// L    = ½ · Σᵢ wᵢ resᵢ² / Σᵢ wᵢ              (wᵢ = 1: ½·mean over the micro-batch)
/// ∂L/∂Vᵢ      = −wᵢ resᵢ / Σw                 (Eq. 7, batch mean)
/// ∂L/∂logπᵢ   = −τ·wᵢ resᵢ / Σw               (Eq. 8, batch mean)
///             = −wᵢ resᵢ / Σw  after the paper's 1/τ rescaling (default)
/// </code>
/// The fixed point is π* = π_ref·e^{(r−V*)/τ}, V* = τ·log E_ref[e^{r/τ}] whatever the behaviour policy μ
/// (Theorem 1). V is a constant in the policy gradient and ℓ in the value gradient (separate networks).
/// <para>
/// Ablations: <see cref="DroValueMode.Single"/> (one value for the batch: the trainer passes the same
/// scalar as every Vᵢ and sums the per-example value gradients, <see cref="ObjectiveResult.ValueGradientSum"/>);
/// <see cref="DroValueMode.Shared"/> (value head on the policy encoder; a trainer concern, same gradients
/// here). Length normalisation is a log-prob concern: the trainer divides log π and log π_ref by |y|
/// before calling, which changes the fixed point (algorithms.md §3.6).
/// </para>
/// </summary>
public sealed class DroVObjective : IAlignmentObjective
{
    public DroVObjective(double tau = 1.0, DroValueMode valueMode = DroValueMode.PerExample, bool rescalePolicyGradient = true)
    {
        ObjectiveMath.RequirePositive(tau, nameof(tau));
        Tau = tau;
        ValueMode = valueMode;
        RescalePolicyGradient = rescalePolicyGradient;
        Requirements = new ObjectiveRequirements
        {
            Inputs = ObjectiveInputs.PolicyLogProbs | ObjectiveInputs.ReferenceLogProbs | ObjectiveInputs.Values | ObjectiveInputs.Rewards,
            ValueMode = valueMode,
        };
    }

    public string Name => "dro-v";

    /// <summary>τ, the KL-regularisation strength (larger τ keeps the policy closer to the reference).</summary>
    public double Tau { get; }

    public DroValueMode ValueMode { get; }

    /// <summary>Multiply the policy gradient by 1/τ (S1 §3.3). The value gradient is never rescaled.</summary>
    public bool RescalePolicyGradient { get; }

    public ObjectiveRequirements Requirements { get; }

    public ObjectiveResult Compute(ObjectiveBatch batch)
    {
        batch.Validate(Requirements.Inputs, Name);
        int b = batch.Count;
        double[] logp = batch.PolicyLogProbs, logpRef = batch.ReferenceLogProbs!, v = batch.Values!, r = batch.Rewards!;
        if (ValueMode == DroValueMode.Single)
            for (int i = 1; i < b; i++)
                if (v[i] != v[0])
                    throw new ArgumentException($"{Name} with a single value: Values[{i}] = {v[i]} differs from Values[0] = {v[0]}; pass the same scalar for every row");

        double[] w = batch.NormalizedWeights();
        double policyScale = RescalePolicyGradient ? 1.0 : Tau;
        var dlogp = new double[b];
        var dv = new double[b];
        var ratios = new double[b];           // ℓᵢ
        var residuals = new double[b];        // resᵢ
        var implicitRewards = new double[b];  // τ·ℓᵢ
        double loss = 0;
        for (int i = 0; i < b; i++)
        {
            ratios[i] = logp[i] - logpRef[i];
            implicitRewards[i] = Tau * ratios[i];
            double res = residuals[i] = r[i] - v[i] - implicitRewards[i];
            loss += 0.5 * w[i] * res * res;
            dv[i] = -w[i] * res;
            dlogp[i] = -policyScale * w[i] * res;
        }

        var metrics = new ObjectiveMetrics();
        metrics.Add("loss", loss);
        metrics.AddPerExample("value/mean", v, batch.Weights);
        metrics.AddPerExample("residual/mean", residuals, batch.Weights);
        metrics.AddPerExample("logratio/mean", ratios, batch.Weights);
        metrics.AddPerExample("logps/mean", logp, batch.Weights);
        metrics.AddPerExample("rewards/mean", implicitRewards, batch.Weights);
        return new ObjectiveResult { Loss = loss, PolicyLogProbGradient = dlogp, ValueGradient = dv, Metrics = metrics };
    }
}
