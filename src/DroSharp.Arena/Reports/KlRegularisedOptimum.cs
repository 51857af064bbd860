namespace DroSharp.Arena.Reports;

/// <summary>
/// The optimum of the KL-regularised objective E_π[ρ] − τ·KL(π‖π_ref), which DRO-V converges to (Theorem 1):
///   π*(y|x) = π_ref(y|x)·e^{ρ(x,y)/τ} / Z(x),   Z(x) = E_{π_ref}[e^{ρ/τ}],
/// estimated per prompt from K samples y₁…y_K of π_ref by self-normalised importance sampling:
///   w̄ₖ = e^{ρₖ/τ} / Σⱼ e^{ρⱼ/τ}
///   E_{π*}[r] ≈ Σₖ w̄ₖ rₖ                                  (consistent; biased O(1/K))
///   Var ≈ Σₖ w̄ₖ² (rₖ − Σⱼ w̄ⱼ rⱼ)²                         (delta method)
///   KL(π*‖π_ref) = E_{π*}[ρ]/τ − log Z ≈ Σₖ w̄ₖ ρₖ/τ − log((1/K) Σₖ e^{ρₖ/τ})
///   ESS = 1 / Σₖ w̄ₖ²                                       (K when the weights are equal, 1 when one dominates)
/// Exponentials are taken relative to the largest ρ of the prompt, so no τ overflows.
/// </summary>
public static class KlRegularisedOptimum
{
    /// <param name="ratings">Per prompt, ρ of each sample (the objective's reward).</param>
    /// <param name="rewards">Per prompt, the true reward of the same samples.</param>
    /// <param name="tau">τ &gt; 0.</param>
    public static OptimumEstimate Estimate(IReadOnlyList<IReadOnlyList<double>> ratings, IReadOnlyList<IReadOnlyList<double>> rewards, double tau)
    {
        ArgumentNullException.ThrowIfNull(ratings);
        ArgumentNullException.ThrowIfNull(rewards);
        if (!(tau > 0) || !double.IsFinite(tau)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "τ must be a positive number");
        if (ratings.Count != rewards.Count) throw new ArgumentException($"ratings for {ratings.Count} prompts but rewards for {rewards.Count}");
        if (ratings.Count == 0) throw new ArgumentException("no prompts");
        double rewardSum = 0, varianceSum = 0, klSum = 0, referenceSum = 0, essSum = 0, essMin = double.PositiveInfinity;
        int samples = -1;
        for (int x = 0; x < ratings.Count; x++)
        {
            var rho = ratings[x];
            var r = rewards[x];
            int k = rho.Count;
            if (k == 0 || r.Count != k) throw new ArgumentException($"prompt {x}: {k} ratings and {r.Count} rewards; need the same positive number");
            if (samples >= 0 && k != samples) throw new ArgumentException($"prompt {x} has {k} samples, prompt 0 has {samples}");
            samples = k;
            double max = double.NegativeInfinity;
            for (int i = 0; i < k; i++)
            {
                if (!double.IsFinite(rho[i]) || !double.IsFinite(r[i])) throw new ArgumentException($"prompt {x}, sample {i}: rating {rho[i]} and reward {r[i]} must be finite");
                max = Math.Max(max, rho[i]);
            }
            var w = new double[k];
            double wSum = 0;
            for (int i = 0; i < k; i++) wSum += w[i] = Math.Exp((rho[i] - max) / tau);
            double mean = 0, rhoMean = 0, wSquares = 0, plain = 0;
            for (int i = 0; i < k; i++)
            {
                w[i] /= wSum;
                mean += w[i] * r[i];
                rhoMean += w[i] * rho[i];
                wSquares += w[i] * w[i];
                plain += r[i];
            }
            double variance = 0;
            for (int i = 0; i < k; i++) variance += w[i] * w[i] * (r[i] - mean) * (r[i] - mean);
            double logZ = max / tau + Math.Log(wSum / k); // log((1/K) Σ e^{ρ/τ})
            rewardSum += mean;
            varianceSum += variance;
            klSum += rhoMean / tau - logZ;
            referenceSum += plain / k;
            double ess = 1.0 / wSquares;
            essSum += ess;
            essMin = Math.Min(essMin, ess);
        }
        int n = ratings.Count;
        return new OptimumEstimate
        {
            Tau = tau,
            ExpectedReward = rewardSum / n,
            StandardError = Math.Sqrt(varianceSum) / n,
            Kl = Math.Max(0, klSum / n), // ≥ 0 exactly (Jensen); the max only removes rounding
            ReferenceReward = referenceSum / n,
            MeanEffectiveSampleSize = essSum / n,
            MinEffectiveSampleSize = essMin,
            SamplesPerPrompt = samples,
            Prompts = n,
        };
    }
}
