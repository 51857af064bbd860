using DroSharp.Alignment.Objectives;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>Central finite differences of an objective's loss with respect to one input array.</summary>
internal static class FiniteDifference
{
    public enum Input { PolicyLogProbs, Values }

    /// <summary>Checks gradient[i] ≈ (L(x + h eᵢ) − L(x − h eᵢ)) / 2h for every row, relative to the gradient's scale.</summary>
    public static void Check(IAlignmentObjective objective, ObjectiveBatch batch, double[] gradient, Input input, double h = 1e-5, double tolerance = 1e-7)
    {
        double[] source = input == Input.PolicyLogProbs ? batch.PolicyLogProbs : batch.Values!;
        double scale = Math.Max(1e-3, gradient.Max(Math.Abs));
        for (int i = 0; i < source.Length; i++)
        {
            double plus = objective.Compute(With(batch, input, source, i, +h)).Loss;
            double minus = objective.Compute(With(batch, input, source, i, -h)).Loss;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= tolerance * scale,
                $"{objective.Name} ∂L/∂{input}[{i}]: analytic {gradient[i]:R}, numeric {numeric:R}");
        }
    }

    private static ObjectiveBatch With(ObjectiveBatch batch, Input input, double[] source, int i, double delta)
    {
        double[] moved = (double[])source.Clone();
        moved[i] += delta;
        return new ObjectiveBatch
        {
            PolicyLogProbs = input == Input.PolicyLogProbs ? moved : batch.PolicyLogProbs,
            Values = input == Input.Values ? moved : batch.Values,
            ReferenceLogProbs = batch.ReferenceLogProbs, Rewards = batch.Rewards, Labels = batch.Labels,
            MismatchedPolicyLogProbs = batch.MismatchedPolicyLogProbs, MismatchedReferenceLogProbs = batch.MismatchedReferenceLogProbs,
            PartitionValues = batch.PartitionValues, TokenCounts = batch.TokenCounts, Pairs = batch.Pairs, Weights = batch.Weights,
        };
    }
}
