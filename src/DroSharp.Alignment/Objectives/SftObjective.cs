using DroSharp.Alignment.Data;

namespace DroSharp.Alignment.Objectives;

/// <summary>
/// Supervised fine-tuning: the negative log-likelihood of the completions.
/// <code>
/// PerToken (default, as transformers/TRL):  L = −Σᵢ log π(yᵢ|xᵢ) / Σᵢ |yᵢ|,   ∂L/∂logπᵢ = −1/Σⱼ|yⱼ|
/// PerSequence:                               L = −Σᵢ wᵢ log π(yᵢ|xᵢ) / Σw,    ∂L/∂logπᵢ = −wᵢ/Σw
/// </code>
/// The per-token mean is over the tokens of this micro-batch (the accumulation convention of
/// <see cref="IAlignmentObjective"/> then averages micro-batches, not tokens, across accumulation steps).
/// SFT on positives (<c>sft-pos</c>) is a data filter applied by the trainer: <see cref="PositiveIndices(ReadOnlySpan{bool})"/>.
/// </summary>
public sealed class SftObjective : IAlignmentObjective
{
    public SftObjective(SftNormalization normalization = SftNormalization.PerToken, bool positivesOnly = false)
    {
        Normalization = normalization;
        PositivesOnly = positivesOnly;
        Requirements = new ObjectiveRequirements
        {
            Inputs = ObjectiveInputs.PolicyLogProbs | (normalization == SftNormalization.PerToken ? ObjectiveInputs.TokenCounts : ObjectiveInputs.None),
            PositivesOnly = positivesOnly,
            Data = DataRequirement.Completions,
        };
    }

    public string Name => PositivesOnly ? "sft-pos" : "sft";

    public SftNormalization Normalization { get; }

    /// <summary>Train on the desirable rows only; the trainer filters the data with <see cref="PositiveIndices(ReadOnlySpan{bool})"/>.</summary>
    public bool PositivesOnly { get; }

    public ObjectiveRequirements Requirements { get; }

    /// <summary>Indices of the rows labelled desirable. Throws if there are none (nothing to train on).</summary>
    public static int[] PositiveIndices(ReadOnlySpan<bool> labels)
    {
        var list = new List<int>();
        for (int i = 0; i < labels.Length; i++) if (labels[i]) list.Add(i);
        if (list.Count == 0) throw new ArgumentException($"none of the {labels.Length} rows is labelled desirable; SFT on positives has nothing to train on");
        return [.. list];
    }

    /// <summary>Indices of the rows whose reward is strictly greater than <paramref name="threshold"/>.</summary>
    public static int[] PositiveIndices(ReadOnlySpan<double> rewards, double threshold)
    {
        var list = new List<int>();
        for (int i = 0; i < rewards.Length; i++) if (rewards[i] > threshold) list.Add(i);
        if (list.Count == 0)
            throw new ArgumentException($"none of the {rewards.Length} rows has a reward above {threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}; SFT on positives has nothing to train on");
        return [.. list];
    }

    public ObjectiveResult Compute(ObjectiveBatch batch)
    {
        batch.Validate(Requirements.Inputs, Name);
        int b = batch.Count;
        double[] logp = batch.PolicyLogProbs;
        var dlogp = new double[b];
        double loss = 0;
        var metrics = new ObjectiveMetrics();
        if (Normalization == SftNormalization.PerToken)
        {
            batch.RejectWeights(Name + " (per-token)");
            long tokens = 0;
            foreach (int n in batch.TokenCounts!) tokens += n;
            for (int i = 0; i < b; i++)
            {
                loss -= logp[i];
                dlogp[i] = -1.0 / tokens;
            }
            loss /= tokens;
        }
        else
        {
            double[] w = batch.NormalizedWeights();
            for (int i = 0; i < b; i++)
            {
                loss -= w[i] * logp[i];
                dlogp[i] = -w[i];
            }
        }
        metrics.Add("loss", loss);
        metrics.AddPerExample("logps/mean", logp, batch.Weights);
        return new ObjectiveResult { Loss = loss, PolicyLogProbGradient = dlogp, Metrics = metrics };
    }
}
