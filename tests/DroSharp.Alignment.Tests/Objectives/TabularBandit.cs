using DroSharp.Alignment.Objectives;

namespace DroSharp.Alignment.Tests.Objectives;

/// <summary>
/// A contextual bandit with a tabular softmax policy: logits θ[x, a], π(a|x) = softmax(θ[x])ₐ, a reference
/// π_ref, a behaviour policy μ, rewards r[x, a], a context distribution ρ and a value per context.
/// The objectives see it only through <see cref="ObjectiveBatch"/> rows, exactly as they see a T5 model.
/// </summary>
internal sealed class TabularBandit
{
    public required double[][] Reference { get; init; }   // π_ref [X][K]
    public required double[][] Behaviour { get; init; }   // μ [X][K]
    public required double[][] Rewards { get; init; }     // r [X][K]
    public required double[] ContextWeights { get; init; } // ρ [X]

    public int Contexts => Reference.Length;
    public int Actions => Reference[0].Length;

    /// <summary>The single-context fixture of algorithms.md §8.1.</summary>
    public static TabularBandit PaperFixture() => new()
    {
        Reference = [[0.4, 0.3, 0.2, 0.1]],
        Behaviour = [[0.1, 0.2, 0.3, 0.4]],
        Rewards = [[1.0, -0.5, 2.0, 0.3]],
        ContextWeights = [1.0],
    };

    public static double[] Softmax(ReadOnlySpan<double> logits)
    {
        double max = double.NegativeInfinity;
        foreach (double v in logits) max = Math.Max(max, v);
        var p = new double[logits.Length];
        double s = 0;
        for (int i = 0; i < p.Length; i++) s += p[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] /= s;
        return p;
    }

    public double[][] Policy(double[][] theta) => theta.Select(t => Softmax(t)).ToArray();

    /// <summary>θ initialised at the reference: θ[x] = log π_ref(·|x).</summary>
    public double[][] ReferenceLogits() => Reference.Select(row => row.Select(p => Math.Log(p)).ToArray()).ToArray();

    /// <summary>V*(x) = τ·log Σ_a π_ref(a|x) e^{r(x,a)/τ}.</summary>
    public double[] OptimalValues(double tau) =>
        Enumerable.Range(0, Contexts).Select(x => tau * Math.Log(Enumerable.Range(0, Actions).Sum(a => Reference[x][a] * Math.Exp(Rewards[x][a] / tau)))).ToArray();

    /// <summary>π*(a|x) = π_ref(a|x) e^{(r − V*)/τ}.</summary>
    public double[][] OptimalPolicy(double tau)
    {
        double[] v = OptimalValues(tau);
        return Enumerable.Range(0, Contexts).Select(x => Enumerable.Range(0, Actions).Select(a => Reference[x][a] * Math.Exp((Rewards[x][a] - v[x]) / tau)).ToArray()).ToArray();
    }

    /// <summary>
    /// Every (x, a) as a row weighted by ρ(x)μ(a|x): the objective's weighted mean is then the exact
    /// expectation under the data distribution. Row index = x·K + a.
    /// </summary>
    public ObjectiveBatch ExactBatch(double[][] theta, double[]? values, bool includeWeights = true)
    {
        int n = Contexts * Actions;
        var logp = new double[n];
        var logpRef = new double[n];
        var r = new double[n];
        var w = new double[n];
        var v = new double[n];
        for (int x = 0; x < Contexts; x++)
        {
            double[] pi = Softmax(theta[x]);
            for (int a = 0; a < Actions; a++)
            {
                int i = x * Actions + a;
                logp[i] = Math.Log(pi[a]);
                logpRef[i] = Math.Log(Reference[x][a]);
                r[i] = Rewards[x][a];
                w[i] = ContextWeights[x] * Behaviour[x][a];
                v[i] = values?[x] ?? 0;
            }
        }
        return new ObjectiveBatch
        {
            PolicyLogProbs = logp, ReferenceLogProbs = logpRef, Rewards = r, Values = v,
            Weights = includeWeights ? w : null,
        };
    }

    /// <summary>
    /// Chain rule through the softmax: ∂L/∂θ[x, a] = Σ_rows (x, y) g_row·(1[a = y] − π(a|x)), for rows
    /// given as (context, action) with gradient g = ∂L/∂log π(action|context).
    /// </summary>
    public double[][] LogitGradient(double[][] theta, ReadOnlySpan<int> contexts, ReadOnlySpan<int> actions, ReadOnlySpan<double> dlogp)
    {
        var grad = new double[Contexts][];
        var pi = new double[Contexts][];
        for (int x = 0; x < Contexts; x++) { grad[x] = new double[Actions]; pi[x] = Softmax(theta[x]); }
        for (int i = 0; i < dlogp.Length; i++)
        {
            int x = contexts[i];
            for (int a = 0; a < Actions; a++) grad[x][a] -= dlogp[i] * pi[x][a];
            grad[x][actions[i]] += dlogp[i];
        }
        return grad;
    }

    /// <summary>Rows of an <see cref="ExactBatch"/>: context and action of row i.</summary>
    public (int[] Contexts, int[] Actions) ExactRows()
    {
        int n = Contexts * Actions;
        return (Enumerable.Range(0, n).Select(i => i / Actions).ToArray(), Enumerable.Range(0, n).Select(i => i % Actions).ToArray());
    }

    /// <summary>E_ρ[KL(π(·|x) ‖ π_ref(·|x))].</summary>
    public double KlToReference(double[][] policy) =>
        Enumerable.Range(0, Contexts).Sum(x => ContextWeights[x] * Enumerable.Range(0, Actions).Sum(a => policy[x][a] > 0 ? policy[x][a] * Math.Log(policy[x][a] / Reference[x][a]) : 0));

    /// <summary>E_ρ E_π[r].</summary>
    public double ExpectedReward(double[][] policy) =>
        Enumerable.Range(0, Contexts).Sum(x => ContextWeights[x] * Enumerable.Range(0, Actions).Sum(a => policy[x][a] * Rewards[x][a]));

    public static double MaxAbsDiff(double[][] a, double[][] b) =>
        a.Zip(b).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
}
