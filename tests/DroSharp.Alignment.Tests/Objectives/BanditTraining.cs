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

    /// <summary>
    /// Seeded SGD on micro-batches of 32 rows (x ~ ρ, y ~ μ(·|x)), building each batch from the objective's
    /// declared requirements (values, mismatched pairs rotated as TRL does). Rewards are r(x, y), or
    /// Bernoulli(r(x, y)) draws when <paramref name="bernoulliRewards"/> is set.
    /// </summary>
    public static (double[][] Policy, double[] Values) TrainOnSamples(TabularBandit bandit, IAlignmentObjective objective, DeterministicRandom random,
                                                                     int steps, Func<int, double> learningRate, bool bernoulliRewards = false)
    {
        double[][] theta = bandit.ReferenceLogits();
        var v = new double[bandit.Contexts];
        const int batchSize = 32;
        for (int step = 0; step < steps; step++)
        {
            double lr = learningRate(step);
            var (contexts, actions) = Sample(bandit, batchSize, random);
            var batch = SampledBatch(bandit, theta, v, contexts, actions, objective.Requirements);
            if (bernoulliRewards)
                for (int i = 0; i < batchSize; i++) batch.Rewards![i] = random.NextDouble() < batch.Rewards[i] ? 1 : 0;
            var result = objective.Compute(batch);
            double[][] g = bandit.LogitGradient(theta, contexts, actions, result.PolicyLogProbGradient);
            for (int x = 0; x < bandit.Contexts; x++)
                for (int a = 0; a < bandit.Actions; a++) theta[x][a] -= lr * g[x][a];
            if (result.ValueGradient is not null)
                for (int i = 0; i < batchSize; i++) v[contexts[i]] -= lr * result.ValueGradient[i];
        }
        return (bandit.Policy(theta), v);
    }

    /// <summary>
    /// Rows (xᵢ, aᵢ) of a sampled micro-batch as an objective batch (policy, reference, reward, value of xᵢ);
    /// with KTO's requirements also the mismatched pairs (xᵢ, a_{m(i)}).
    /// </summary>
    public static ObjectiveBatch SampledBatch(TabularBandit bandit, double[][] theta, double[] values, int[] contexts, int[] actions,
                                              ObjectiveRequirements? requirements = null)
    {
        int b = contexts.Length;
        double[][] pi = bandit.Policy(theta);
        var logp = new double[b];
        var logpRef = new double[b];
        var r = new double[b];
        var v = new double[b];
        for (int i = 0; i < b; i++)
        {
            int x = contexts[i], a = actions[i];
            logp[i] = Math.Log(pi[x][a]);
            logpRef[i] = Math.Log(bandit.Reference[x][a]);
            r[i] = bandit.Rewards[x][a];
            v[i] = values[x];
        }
        double[]? mismatchedLogp = null, mismatchedLogpRef = null;
        if (requirements?.NeedsMismatchedLogProbs == true)
        {
            mismatchedLogp = new double[b];
            mismatchedLogpRef = new double[b];
            for (int i = 0; i < b; i++)
            {
                int x = contexts[i], a = actions[KtoObjective.MismatchedCompletionIndex(i, b)];
                mismatchedLogp[i] = Math.Log(pi[x][a]);
                mismatchedLogpRef[i] = Math.Log(bandit.Reference[x][a]);
            }
        }
        return new ObjectiveBatch
        {
            PolicyLogProbs = logp, ReferenceLogProbs = logpRef, Rewards = r, Values = v,
            MismatchedPolicyLogProbs = mismatchedLogp, MismatchedReferenceLogProbs = mismatchedLogpRef,
        };
    }
}
