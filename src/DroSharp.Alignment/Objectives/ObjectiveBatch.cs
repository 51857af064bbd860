namespace DroSharp.Alignment.Objectives;

/// <summary>
/// One micro-batch of per-example quantities, as plain arrays of length B (the number of rows).
/// Which arrays must be present is given by <see cref="IAlignmentObjective.Requirements"/>; arrays an
/// objective does not use are ignored. Sequence log-probs are sums of the completion tokens' log-probs
/// (divided by the length only under the trainer's length-normalisation option, which changes the
/// fixed point: algorithms.md §3.6).
/// </summary>
public sealed class ObjectiveBatch
{
    /// <summary>log πθ(yᵢ|xᵢ) [B].</summary>
    public required double[] PolicyLogProbs { get; init; }

    /// <summary>log π_ref(yᵢ|xᵢ) [B].</summary>
    public double[]? ReferenceLogProbs { get; init; }

    /// <summary>V_φ(xᵢ) [B].</summary>
    public double[]? Values { get; init; }

    /// <summary>rᵢ [B].</summary>
    public double[]? Rewards { get; init; }

    /// <summary>Desirable (true) / undesirable (false) [B].</summary>
    public bool[]? Labels { get; init; }

    /// <summary>log πθ(y_{m(i)}|xᵢ) [B], mismatched completions (KTO); treated as a constant.</summary>
    public double[]? MismatchedPolicyLogProbs { get; init; }

    /// <summary>log π_ref(y_{m(i)}|xᵢ) [B].</summary>
    public double[]? MismatchedReferenceLogProbs { get; init; }

    /// <summary>RPO's V̂(xᵢ) [B].</summary>
    public double[]? PartitionValues { get; init; }

    /// <summary>Completion token counts |yᵢ| [B].</summary>
    public int[]? TokenCounts { get; init; }

    /// <summary>DPO pairs [P] of row indices.</summary>
    public PreferencePair[]? Pairs { get; init; }

    /// <summary>
    /// Optional non-negative example weights wᵢ [B] (default: all 1). For the separable objectives
    /// (DRO-V, DRO-P, RPO, SFT per sequence) every micro-batch mean (1/B)Σᵢ becomes Σᵢ wᵢ(·)/Σᵢ wᵢ:
    /// with all actions of a tabular bandit and wᵢ = ρ(x)μ(y|x) this is the exact expectation.
    /// KTO, DPO and per-token SFT reject weights.
    /// </summary>
    public double[]? Weights { get; init; }

    /// <summary>B, the number of rows.</summary>
    public int Count => PolicyLogProbs.Length;

    /// <summary>Checks that every array named in <paramref name="inputs"/> is present, has B entries and holds finite numbers.</summary>
    internal void Validate(ObjectiveInputs inputs, string objective)
    {
        int b = Count;
        if (b == 0) throw new ArgumentException($"{objective}: the micro-batch is empty (PolicyLogProbs has 0 rows)");
        CheckFinite(PolicyLogProbs, nameof(PolicyLogProbs), b, objective);
        if (inputs.HasFlag(ObjectiveInputs.ReferenceLogProbs)) CheckFinite(ReferenceLogProbs, nameof(ReferenceLogProbs), b, objective);
        if (inputs.HasFlag(ObjectiveInputs.Values)) CheckFinite(Values, nameof(Values), b, objective);
        if (inputs.HasFlag(ObjectiveInputs.Rewards)) CheckFinite(Rewards, nameof(Rewards), b, objective);
        if (inputs.HasFlag(ObjectiveInputs.Labels)) CheckLength(Labels, nameof(Labels), b, objective);
        if (inputs.HasFlag(ObjectiveInputs.MismatchedLogProbs))
        {
            CheckFinite(MismatchedPolicyLogProbs, nameof(MismatchedPolicyLogProbs), b, objective);
            CheckFinite(MismatchedReferenceLogProbs, nameof(MismatchedReferenceLogProbs), b, objective);
        }
        if (inputs.HasFlag(ObjectiveInputs.PartitionValues)) CheckFinite(PartitionValues, nameof(PartitionValues), b, objective);
        if (inputs.HasFlag(ObjectiveInputs.TokenCounts))
        {
            CheckLength(TokenCounts, nameof(TokenCounts), b, objective);
            for (int i = 0; i < b; i++)
                if (TokenCounts![i] <= 0)
                    throw new ArgumentException($"{objective}: TokenCounts[{i}] = {TokenCounts[i]}; every completion needs at least one token");
        }
        if (inputs.HasFlag(ObjectiveInputs.Pairs))
        {
            if (Pairs is null || Pairs.Length == 0) throw new ArgumentException($"{objective}: Pairs is missing or empty; the objective needs (chosen, rejected) pairs");
            for (int p = 0; p < Pairs.Length; p++)
            {
                var (c, r) = (Pairs[p].Chosen, Pairs[p].Rejected);
                if ((uint)c >= (uint)b || (uint)r >= (uint)b)
                    throw new ArgumentException($"{objective}: Pairs[{p}] = ({c}, {r}) points outside the batch of {b} rows");
                if (c == r) throw new ArgumentException($"{objective}: Pairs[{p}] uses row {c} as both chosen and rejected");
            }
        }
        if (Weights is not null)
        {
            CheckFinite(Weights, nameof(Weights), b, objective);
            double total = 0;
            for (int i = 0; i < b; i++)
            {
                if (Weights[i] < 0) throw new ArgumentException($"{objective}: Weights[{i}] = {Weights[i]} is negative");
                total += Weights[i];
            }
            if (!(total > 0)) throw new ArgumentException($"{objective}: Weights sum to 0; at least one example must count");
        }
    }

    /// <summary>wᵢ / Σⱼ wⱼ [B] (1/B each without weights).</summary>
    internal double[] NormalizedWeights()
    {
        int b = Count;
        var w = new double[b];
        if (Weights is null)
        {
            Array.Fill(w, 1.0 / b);
            return w;
        }
        double total = 0;
        for (int i = 0; i < b; i++) total += Weights[i];
        for (int i = 0; i < b; i++) w[i] = Weights[i] / total;
        return w;
    }

    internal void RejectWeights(string objective)
    {
        if (Weights is not null)
            throw new ArgumentException($"{objective}: example Weights are not supported (the loss is not a per-example mean)");
    }

    private static void CheckLength<T>(T[]? array, string name, int b, string objective)
    {
        if (array is null) throw new ArgumentException($"{objective}: {name} is missing; the objective needs it");
        if (array.Length != b) throw new ArgumentException($"{objective}: {name} has {array.Length} entries, expected {b} (one per row of PolicyLogProbs)");
    }

    private static void CheckFinite(double[]? array, string name, int b, string objective)
    {
        CheckLength(array, name, b, objective);
        for (int i = 0; i < b; i++)
            if (!double.IsFinite(array![i]))
                throw new ArgumentException($"{objective}: {name}[{i}] = {array[i]} is not a finite number");
    }
}
