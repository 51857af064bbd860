namespace DroSharp.Alignment.Objectives;

/// <summary>
/// RPO, Reward Partitioning Optimisation (Faye et al. 2025; algorithms.md §6.5): DRO with the learned value
/// replaced by an empirical per-prompt soft value precomputed once from the frozen reference,
/// <code>
/// V̂(x) = τ·log Σ_{i∈I_x} π_ref(yᵢ|x)·e^{rᵢ/τ}            (<see cref="EstimatePartitionValues"/>)
/// L    = ½ Σᵢ wᵢ (ℓᵢ − (rᵢ − V̂(xᵢ))/τ)² / Σw,   ℓᵢ = log πθ(yᵢ|xᵢ) − log π_ref(yᵢ|xᵢ)
/// ∂L/∂logπᵢ = wᵢ (ℓᵢ − (rᵢ − V̂(xᵢ))/τ) / Σw
/// </code>
/// The sum over the observed responses carries no 1/μ importance weights, so V̂ equals V* only in special
/// cases (e.g. the responses are the whole support). Needs several responses per prompt. The reference
/// implementation uses per-token-mean log-probs for both π_ref in V̂ and the policy: that is the trainer's
/// length-normalisation option, applied consistently to both.
/// </summary>
public sealed class RpoObjective : IAlignmentObjective
{
    public RpoObjective(double tau = 1.0)
    {
        ObjectiveMath.RequirePositive(tau, nameof(tau));
        Tau = tau;
    }

    public string Name => "rpo";

    public double Tau { get; }

    public ObjectiveRequirements Requirements { get; } = new()
    {
        Inputs = ObjectiveInputs.PolicyLogProbs | ObjectiveInputs.ReferenceLogProbs | ObjectiveInputs.Rewards | ObjectiveInputs.PartitionValues,
        NeedsSeveralResponsesPerPrompt = true,
    };

    /// <summary>
    /// V̂ for the whole data set: examples are grouped by <paramref name="promptIds"/> (equal id = same prompt),
    /// and every row gets τ·log Σ_{j in its group} exp(log π_ref(yⱼ|x) + rⱼ/τ) (a log-sum-exp, stable for
    /// very negative log-probs). Throws if no prompt has two or more responses.
    /// </summary>
    public static RpoPartitionValues EstimatePartitionValues(ReadOnlySpan<int> promptIds, ReadOnlySpan<double> referenceLogProbs,
                                                             ReadOnlySpan<double> rewards, double tau)
    {
        ObjectiveMath.RequirePositive(tau, nameof(tau));
        int n = promptIds.Length;
        if (n == 0) throw new ArgumentException("RPO: no examples to estimate the partition values from");
        if (referenceLogProbs.Length != n) throw new ArgumentException($"RPO: referenceLogProbs has {referenceLogProbs.Length} entries, expected {n} (one per prompt id)");
        if (rewards.Length != n) throw new ArgumentException($"RPO: rewards has {rewards.Length} entries, expected {n} (one per prompt id)");

        var groups = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(referenceLogProbs[i])) throw new ArgumentException($"RPO: referenceLogProbs[{i}] = {referenceLogProbs[i]} is not a finite number");
            if (!double.IsFinite(rewards[i])) throw new ArgumentException($"RPO: rewards[{i}] = {rewards[i]} is not a finite number");
            if (!groups.TryGetValue(promptIds[i], out var rows)) groups[promptIds[i]] = rows = [];
            rows.Add(i);
        }

        int singletons = 0;
        var values = new double[n];
        var terms = new List<double>();
        foreach (var rows in groups.Values)
        {
            if (rows.Count == 1) singletons++;
            terms.Clear();
            foreach (int i in rows) terms.Add(referenceLogProbs[i] + rewards[i] / tau);
            double v = tau * ObjectiveMath.LogSumExp(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(terms));
            foreach (int i in rows) values[i] = v;
        }
        if (singletons == groups.Count)
            throw new ArgumentException($"RPO needs several responses to the same prompt, but each of the {groups.Count} prompts has a single response; use a data set with several rated responses per prompt (e.g. UltraFeedback) or another objective (dro-v works with one response per prompt)");
        return new RpoPartitionValues(values, groups.Count, singletons);
    }

    public ObjectiveResult Compute(ObjectiveBatch batch)
    {
        batch.Validate(Requirements.Inputs, Name);
        int b = batch.Count;
        double[] logp = batch.PolicyLogProbs, logpRef = batch.ReferenceLogProbs!, r = batch.Rewards!, vhat = batch.PartitionValues!;
        double[] w = batch.NormalizedWeights();
        var dlogp = new double[b];
        var ratios = new double[b];
        var residuals = new double[b];   // rᵢ − V̂ᵢ − τℓᵢ, DRO's residual with V = V̂
        double loss = 0;
        for (int i = 0; i < b; i++)
        {
            ratios[i] = logp[i] - logpRef[i];
            double e = ratios[i] - (r[i] - vhat[i]) / Tau;
            residuals[i] = -Tau * e;
            loss += 0.5 * w[i] * e * e;
            dlogp[i] = w[i] * e;
        }
        var metrics = new ObjectiveMetrics();
        metrics.Add("loss", loss);
        metrics.AddPerExample("value/mean", vhat, batch.Weights);
        metrics.AddPerExample("residual/mean", residuals, batch.Weights);
        metrics.AddPerExample("logratio/mean", ratios, batch.Weights);
        metrics.AddPerExample("logps/mean", logp, batch.Weights);
        return new ObjectiveResult { Loss = loss, PolicyLogProbGradient = dlogp, Metrics = metrics };
    }
}
