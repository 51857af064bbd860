namespace DroSharp.Alignment.Objectives;

/// <summary>
/// DRO-P, the policy-only variant (S1 App. B; algorithms.md §2.4): the value is replaced by its optimum
/// for the current policy, estimated across the micro-batch (prompts differ, so this is an approximation
/// unless the batch holds responses to one prompt):
/// <code>
/// uᵢ = rᵢ − τ·ℓᵢ,   ū = Σᵢ wᵢuᵢ / Σw
/// L  = ½·Var_B(u) = ½ Σᵢ wᵢ (uᵢ − ū)² / Σw
/// ∂L/∂logπᵢ = −τ·wᵢ(uᵢ − ū)/Σw,  and −wᵢ(uᵢ − ū)/Σw after the 1/τ rescaling (default)
///           = −(1/B)(rᵢ − r̄) + τ(ℓᵢ − ℓ̄)/B   (unweighted, rescaled)
/// </code>
/// (ū's own dependence on ℓ drops out because Σᵢ wᵢ(uᵢ − ū) = 0.) Needs at least 2 rows.
/// </summary>
public sealed class DroPObjective : IAlignmentObjective
{
    public DroPObjective(double tau = 1.0, bool rescalePolicyGradient = true)
    {
        ObjectiveMath.RequirePositive(tau, nameof(tau));
        Tau = tau;
        RescalePolicyGradient = rescalePolicyGradient;
    }

    public string Name => "dro-p";

    public double Tau { get; }

    public bool RescalePolicyGradient { get; }

    public ObjectiveRequirements Requirements { get; } = new()
    {
        Inputs = ObjectiveInputs.PolicyLogProbs | ObjectiveInputs.ReferenceLogProbs | ObjectiveInputs.Rewards,
        MinimumBatchSize = 2,
        MinimumBatchReason = "DRO-P's loss uses the variance of the micro-batch's log-ratios",
    };

    public ObjectiveResult Compute(ObjectiveBatch batch)
    {
        batch.Validate(Requirements.Inputs, Name);
        int b = batch.Count;
        if (b < 2) throw new ArgumentException($"{Name}: a micro-batch of {b} row has no variance; DRO-P needs at least 2 rows per micro-batch");
        double[] logp = batch.PolicyLogProbs, logpRef = batch.ReferenceLogProbs!, r = batch.Rewards!;
        double[] w = batch.NormalizedWeights();

        var ratios = new double[b];
        var u = new double[b];
        double mean = 0;
        for (int i = 0; i < b; i++)
        {
            ratios[i] = logp[i] - logpRef[i];
            u[i] = r[i] - Tau * ratios[i];
            mean += w[i] * u[i];
        }

        double policyScale = RescalePolicyGradient ? 1.0 : Tau;
        var dlogp = new double[b];
        var centered = new double[b];
        double loss = 0;
        for (int i = 0; i < b; i++)
        {
            double c = centered[i] = u[i] - mean;
            loss += 0.5 * w[i] * c * c;
            dlogp[i] = -policyScale * w[i] * c;
        }

        var implicitRewards = new double[b];
        for (int i = 0; i < b; i++) implicitRewards[i] = Tau * ratios[i];
        var metrics = new ObjectiveMetrics();
        metrics.Add("loss", loss);
        metrics.Add("value/mean", mean);  // ū plays the role of a batch-wide V
        metrics.AddPerExample("logratio/mean", ratios, batch.Weights);
        metrics.AddPerExample("logps/mean", logp, batch.Weights);
        metrics.AddPerExample("rewards/mean", implicitRewards, batch.Weights);
        return new ObjectiveResult { Loss = loss, PolicyLogProbGradient = dlogp, Metrics = metrics };
    }
}
