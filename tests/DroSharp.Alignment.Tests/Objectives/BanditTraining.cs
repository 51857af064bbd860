using DroSharp.Alignment.Objectives;
using DroSharp.Tensors;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>Gradient descent on a <see cref="TabularBandit"/> driven only by an objective's gradients.</summary>
internal static class BanditTraining
{
    /// <summary>
    /// Plain gradient descent on the exact expectation under ρ·μ (all rows, weights ρ(x)μ(a|x)).
    /// <paramref name="frozenValues"/> freezes V; <paramref name="singleValue"/> ties one scalar V across contexts
    /// (its gradient is the sum of the per-row value gradients). Policy-only objectives ignore V.
    /// </summary>
    public static (double[][] Theta, double[] Values) ExactGradientDescent(
        TabularBandit bandit, IAlignmentObjective objective, int steps, double learningRate,
        double[]? frozenValues = null, bool singleValue = false, double[][]? initialTheta = null,
        Func<double[][], ObjectiveBatch>? batchOverride = null, bool trainPolicy = true)
    {
        double[][] theta = initialTheta?.Select(t => (double[])t.Clone()).ToArray() ?? bandit.ReferenceLogits();
        double[] v = frozenValues is null ? new double[bandit.Contexts] : (double[])frozenValues.Clone();
        var (contexts, actions) = bandit.ExactRows();
        for (int step = 0; step < steps; step++)
        {
            ObjectiveBatch batch = batchOverride?.Invoke(theta) ?? bandit.ExactBatch(theta, v);
            ObjectiveResult result = objective.Compute(batch);
            if (trainPolicy)
            {
                double[][] g = bandit.LogitGradient(theta, contexts, actions, result.PolicyLogProbGradient);
                for (int x = 0; x < bandit.Contexts; x++)
                    for (int a = 0; a < bandit.Actions; a++) theta[x][a] -= learningRate * g[x][a];
            }
            if (frozenValues is null && result.ValueGradient is not null)
            {
                if (singleValue)
                {
                    double gv = result.ValueGradientSum;
                    for (int x = 0; x < v.Length; x++) v[x] -= learningRate * gv;
                }
                else
                {
                    var gv = new double[bandit.Contexts];
                    for (int i = 0; i < contexts.Length; i++) gv[contexts[i]] += result.ValueGradient[i];
                    for (int x = 0; x < v.Length; x++) v[x] -= learningRate * gv[x];
                }
            }
        }
        return (theta, v);
    }

    /// <summary>Draws B rows (x ~ ρ, a ~ μ(·|x)) with a seeded generator.</summary>
    public static (int[] Contexts, int[] Actions) Sample(TabularBandit bandit, int batchSize, DeterministicRandom random)
    {
        var contexts = new int[batchSize];
        var actions = new int[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            contexts[i] = Categorical(bandit.ContextWeights, random);
            actions[i] = Categorical(bandit.Behaviour[contexts[i]], random);
        }
        return (contexts, actions);
    }

    public static int Categorical(ReadOnlySpan<double> p, DeterministicRandom random)
    {
        double u = random.NextDouble(), c = 0;
        for (int i = 0; i < p.Length; i++)
        {
            c += p[i];
            if (u < c) return i;
        }
        return p.Length - 1;
    }

    /// <summary>Rows (xᵢ, aᵢ) of a sampled micro-batch as an objective batch (policy, reference, reward, value of xᵢ).</summary>
    public static ObjectiveBatch SampledBatch(TabularBandit bandit, double[][] theta, double[] values, int[] contexts, int[] actions)
    {
        int b = contexts.Length;
        var logp = new double[b];
        var logpRef = new double[b];
        var r = new double[b];
        var v = new double[b];
        for (int i = 0; i < b; i++)
        {
            int x = contexts[i], a = actions[i];
            logp[i] = Math.Log(TabularBandit.Softmax(theta[x])[a]);
            logpRef[i] = Math.Log(bandit.Reference[x][a]);
            r[i] = bandit.Rewards[x][a];
            v[i] = values[x];
        }
        return new ObjectiveBatch { PolicyLogProbs = logp, ReferenceLogProbs = logpRef, Rewards = r, Values = v };
    }
}
