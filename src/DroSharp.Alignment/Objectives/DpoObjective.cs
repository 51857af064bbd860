namespace DroSharp.Alignment.Objectives;

/// <summary>
/// DPO with TRL's default sigmoid loss (Rafailov et al. 2023), over the pairs of the micro-batch:
/// <code>
/// hₚ = (log πθ(y_w|x) − log π_ref(y_w|x)) − (log πθ(y_l|x) − log π_ref(y_l|x))
/// L  = −(1/P) Σₚ log σ(β hₚ)                  (= log 2 at π = π_ref)
/// ∂L/∂logπ(y_w) = −β σ(−β hₚ)/P,  ∂L/∂logπ(y_l) = +β σ(−β hₚ)/P   (∓β/(2P) at π = π_ref)
/// </code>
/// Rows are indexed by <see cref="ObjectiveBatch.Pairs"/>; a row in several pairs accumulates their
/// gradients, a row in none gets 0. Metrics as TRL: <c>rewards/chosen</c>, <c>rewards/rejected</c>
/// (β·ℓ), <c>rewards/accuracies</c> (chosen reward strictly above rejected), <c>rewards/margins</c>,
/// <c>logps/chosen</c>, <c>logps/rejected</c>, <c>loss</c>.
/// </summary>
public sealed class DpoObjective : IAlignmentObjective
{
    public DpoObjective(double beta = 0.1)
    {
        ObjectiveMath.RequirePositive(beta, nameof(beta));
        Beta = beta;
    }

    public string Name => "dpo";

    public double Beta { get; }

    public ObjectiveRequirements Requirements { get; } = new()
    {
        Inputs = ObjectiveInputs.PolicyLogProbs | ObjectiveInputs.ReferenceLogProbs | ObjectiveInputs.Pairs,
    };

    public ObjectiveResult Compute(ObjectiveBatch batch)
    {
        batch.Validate(Requirements.Inputs, Name);
        batch.RejectWeights(Name);
        double[] logp = batch.PolicyLogProbs, logpRef = batch.ReferenceLogProbs!;
        PreferencePair[] pairs = batch.Pairs!;
        int p = pairs.Length;
        var dlogp = new double[batch.Count];
        double loss = 0, chosenRewards = 0, rejectedRewards = 0, accurate = 0, chosenLogps = 0, rejectedLogps = 0;
        foreach (var (w, l) in pairs)
        {
            double rw = Beta * (logp[w] - logpRef[w]), rl = Beta * (logp[l] - logpRef[l]);
            double z = rw - rl;                       // β·hₚ
            loss -= ObjectiveMath.LogSigmoid(z);
            double g = Beta * ObjectiveMath.Sigmoid(-z) / p;
            dlogp[w] -= g;
            dlogp[l] += g;
            chosenRewards += rw;
            rejectedRewards += rl;
            if (rw > rl) accurate++;
            chosenLogps += logp[w];
            rejectedLogps += logp[l];
        }
        loss /= p;
        var metrics = new ObjectiveMetrics();
        metrics.Add("loss", loss);
        metrics.Add("rewards/chosen", chosenRewards, p);
        metrics.Add("rewards/rejected", rejectedRewards, p);
        metrics.Add("rewards/accuracies", accurate, p);
        metrics.Add("logps/chosen", chosenLogps, p);
        metrics.Add("logps/rejected", rejectedLogps, p);
        return new ObjectiveResult { Loss = loss, PolicyLogProbGradient = dlogp, Metrics = metrics };
    }
}
