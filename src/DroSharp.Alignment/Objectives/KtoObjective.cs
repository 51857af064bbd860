namespace DroSharp.Alignment.Objectives;

/// <summary>
/// KTO (Ethayarajh et al. 2024) with Hugging Face TRL's semantics (<c>KTOTrainer.kto_loss</c>, loss_type "kto"):
/// <code>
/// ℓᵢ  = log πθ(yᵢ|xᵢ) − log π_ref(yᵢ|xᵢ)
/// z₀  = max(0, (1/B) Σᵢ [log πθ(y_{m(i)}|xᵢ) − log π_ref(y_{m(i)}|xᵢ)])   mismatched pairs, detached
/// Lᵢ  = λ_D·(1 − σ(β(ℓᵢ − z₀)))   desirable
///       λ_U·(1 − σ(β(z₀ − ℓᵢ)))   undesirable
/// L   = (1/B) Σᵢ Lᵢ          (TRL: cat(λ_D·chosen, λ_U·rejected).nanmean() — a mean over all B rows)
/// ∂L/∂ℓᵢ = ∓(λβ/B)·σ(zᵢ)σ(−zᵢ),  zᵢ = β(ℓᵢ − z₀) or β(z₀ − ℓᵢ):  −λ_Dβ/(4B) / +λ_Uβ/(4B) at π = π_ref
/// </code>
/// m(i) is <see cref="MismatchedCompletionIndex"/>: TRL rotates completions by one inside each micro-batch.
/// The micro-batch must hold at least 2 rows (with one, the KL term equals the implied reward). The
/// paper's baseline (S1 §4.1) labels rows by <see cref="KtoLabelMode.BatchMeanReward"/> with λ_D = λ_U = 1.
/// Metrics as TRL: <c>loss</c>, <c>kl</c>, <c>rewards/chosen</c>, <c>rewards/rejected</c> (β·ℓ),
/// <c>rewards/margins</c>, <c>logps/chosen</c>, <c>logps/rejected</c>; per-label means over the rows of that label.
/// </summary>
public sealed class KtoObjective : IAlignmentObjective
{
    public KtoObjective(double beta = 0.1, double desirableWeight = 1.0, double undesirableWeight = 1.0,
                        KtoLabelMode labelMode = KtoLabelMode.Labels)
    {
        ObjectiveMath.RequirePositive(beta, nameof(beta));
        ObjectiveMath.RequireNonNegative(desirableWeight, nameof(desirableWeight));
        ObjectiveMath.RequireNonNegative(undesirableWeight, nameof(undesirableWeight));
        Beta = beta;
        DesirableWeight = desirableWeight;
        UndesirableWeight = undesirableWeight;
        LabelMode = labelMode;
        Requirements = new ObjectiveRequirements
        {
            Inputs = ObjectiveInputs.PolicyLogProbs | ObjectiveInputs.ReferenceLogProbs | ObjectiveInputs.MismatchedLogProbs
                     | (labelMode == KtoLabelMode.Labels ? ObjectiveInputs.Labels : ObjectiveInputs.Rewards),
            MinimumBatchSize = 2,
            MinimumBatchReason = "KTO's KL estimate pairs each prompt with another example's completion inside the micro-batch",
            MissingLabelsHint = "KTO with --kto-label labels needs a 'label' column; for scored data use --kto-label batch-mean (the DRO paper's KTO)",
        };
    }

    public string Name => "kto";

    /// <summary>β: larger means less deviation from the reference.</summary>
    public double Beta { get; }

    /// <summary>λ_D (TRL <c>desirable_weight</c>).</summary>
    public double DesirableWeight { get; }

    /// <summary>λ_U (TRL <c>undesirable_weight</c>).</summary>
    public double UndesirableWeight { get; }

    public KtoLabelMode LabelMode { get; }

    public ObjectiveRequirements Requirements { get; }

    /// <summary>
    /// The row whose completion is paired with prompt i for the KL estimate: TRL's
    /// <c>KL_completion_ids = [completion_ids[-1]] + completion_ids[:-1]</c>, i.e. (x₀, y_{B−1}), (x₁, y₀), …,
    /// (x_{B−1}, y_{B−2}) inside each micro-batch of B rows.
    /// </summary>
    public static int MismatchedCompletionIndex(int row, int batchSize)
    {
        if (batchSize < 2) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, TooSmallMessage(batchSize));
        if ((uint)row >= (uint)batchSize) throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {batchSize})");
        return row == 0 ? batchSize - 1 : row - 1;
    }

    /// <summary>The paper's labels: row i is desirable iff rᵢ is strictly above the mean reward of the micro-batch.</summary>
    public static bool[] BatchMeanLabels(ReadOnlySpan<double> rewards)
    {
        if (rewards.Length == 0) throw new ArgumentException("no rewards to label");
        double mean = 0;
        foreach (double r in rewards) mean += r;
        mean /= rewards.Length;
        var labels = new bool[rewards.Length];
        for (int i = 0; i < rewards.Length; i++) labels[i] = rewards[i] > mean;
        return labels;
    }

    public IReadOnlyList<string> LabelBalanceWarnings(int desirable, int undesirable) =>
        ClassBalanceWarning(desirable, undesirable, DesirableWeight, UndesirableWeight) is { } w ? [w] : [];

    /// <summary>
    /// TRL's class-imbalance check (KTO paper Eq. 8, λ_D·n_D / (λ_U·n_U) ∈ [1, 4/3]) on the training set's
    /// label counts: null when the counts are equal or either weight is in its recommended range, else the
    /// warning text TRL logs, with its bounds rounded to 2 decimals.
    /// </summary>
    public static string? ClassBalanceWarning(int desirableCount, int undesirableCount, double desirableWeight, double undesirableWeight)
    {
        if (desirableCount < 0 || undesirableCount < 0) throw new ArgumentOutOfRangeException(nameof(desirableCount), "label counts must be ≥ 0");
        // TRL: num_desirable = max(sum(labels), 1); num_undesirable = max(len − num_desirable, 1).
        double nD = Math.Max(desirableCount, 1), nU = Math.Max(undesirableCount, 1);
        if (nD == nU) return null;
        double desLower = Math.Round(nU * undesirableWeight / nD, 2);
        double desUpper = Math.Round(nU * undesirableWeight / nD * 1.33, 2);
        double undLower = Math.Round(nD * desirableWeight / nU / 1.33, 2);
        double undUpper = Math.Round(nD * desirableWeight / nU, 2);
        bool desOk = desLower <= desirableWeight && desirableWeight <= desUpper;
        bool undOk = undLower <= undesirableWeight && undesirableWeight <= undUpper;
        if (desOk || undOk) return null;
        var c = System.Globalization.CultureInfo.InvariantCulture;
        return string.Create(c,
            $"You have different amounts of desirable/positive and undesirable/negative examples but the weights on the desirable and undesirable losses don't seem to be in an ideal range. Based on your data, we recommend EITHER desirable_weight in [{desLower}, {desUpper}] or undesirable_weight in [{undLower}, {undUpper}] (but NOT BOTH). See the documentation on how to optimally set these weights. (desirable: {desirableCount}, undesirable: {undesirableCount}, desirable_weight: {desirableWeight}, undesirable_weight: {undesirableWeight})");
    }

    public ObjectiveResult Compute(ObjectiveBatch batch)
    {
        int b = batch.Count;
        if (b < 2) throw new ArgumentException($"{Name}: {TooSmallMessage(b)}");
        batch.Validate(Requirements.Inputs, Name);
        batch.RejectWeights(Name);
        double[] logp = batch.PolicyLogProbs, logpRef = batch.ReferenceLogProbs!;
        bool[] desirable = LabelMode == KtoLabelMode.Labels ? batch.Labels! : BatchMeanLabels(batch.Rewards!);

        // z₀: mean mismatched log-ratio over the micro-batch, clamped at 0; a constant (no gradient).
        double kl = 0;
        for (int i = 0; i < b; i++) kl += batch.MismatchedPolicyLogProbs![i] - batch.MismatchedReferenceLogProbs![i];
        kl = Math.Max(0.0, kl / b);

        var dlogp = new double[b];
        double loss = 0;
        double chosenRewards = 0, rejectedRewards = 0, chosenLogps = 0, rejectedLogps = 0;
        int chosen = 0, rejected = 0;
        for (int i = 0; i < b; i++)
        {
            double ratio = logp[i] - logpRef[i];
            loss += ExampleLoss(ratio, kl, desirable[i]);
            dlogp[i] = ExampleLossDerivative(ratio, kl, desirable[i]) / b;
            if (desirable[i]) { chosen++; chosenRewards += Beta * ratio; chosenLogps += logp[i]; }
            else { rejected++; rejectedRewards += Beta * ratio; rejectedLogps += logp[i]; }
        }
        loss /= b;

        var metrics = new ObjectiveMetrics();
        metrics.Add("loss", loss);
        metrics.Add("kl", kl);
        metrics.Add("rewards/chosen", chosenRewards, chosen);
        metrics.Add("logps/chosen", chosenLogps, chosen);
        metrics.Add("rewards/rejected", rejectedRewards, rejected);
        metrics.Add("logps/rejected", rejectedLogps, rejected);
        return new ObjectiveResult { Loss = loss, PolicyLogProbGradient = dlogp, Metrics = metrics };
    }

    /// <summary>The weighted loss of one row: λ_D(1 − σ(β(ℓ − z₀))) or λ_U(1 − σ(β(z₀ − ℓ))).</summary>
    public double ExampleLoss(double logRatio, double kl, bool desirable)
    {
        double z = desirable ? Beta * (logRatio - kl) : Beta * (kl - logRatio);
        return (desirable ? DesirableWeight : UndesirableWeight) * ObjectiveMath.Sigmoid(-z);   // 1 − σ(z) = σ(−z)
    }

    /// <summary>∂<see cref="ExampleLoss"/>/∂ℓ = ∓λβ·σ(z)σ(−z) (z₀ held constant).</summary>
    public double ExampleLossDerivative(double logRatio, double kl, bool desirable)
    {
        double z = desirable ? Beta * (logRatio - kl) : Beta * (kl - logRatio);
        double magnitude = (desirable ? DesirableWeight : UndesirableWeight) * Beta * ObjectiveMath.Sigmoid(z) * ObjectiveMath.Sigmoid(-z);
        return desirable ? -magnitude : magnitude;
    }

    private static string TooSmallMessage(int b) =>
        $"KTO needs a micro-batch of at least 2 rows, got {b}: its KL reference point is the mean log-ratio of "
        + "mismatched (prompt, completion) pairs built inside the micro-batch, and with one row the KL term "
        + "equals the implied reward (TRL: 'KTO will not work properly'). Use a micro-batch ≥ 2 (TRL recommends ≥ 4).";
}
