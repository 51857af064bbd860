using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models;

/// <summary>Sequence log-probs from any policy: the one scoring path of training, evaluation and <c>dro score</c>.</summary>
public static class PolicyScoring
{
    /// <summary>
    /// log π(y|x) = Σ_t log π(y_t | x, y_&lt;t) over each row's real completion tokens, [B], on the current
    /// tape. With <paramref name="lengthNormalize"/> the sum is divided by the completion length — an
    /// option only: it changes DRO's fixed point (algorithms.md §3.6).
    /// </summary>
    public static Tensor SequenceLogProbs(PolicyOutput output, SequenceBatch batch, bool lengthNormalize)
    {
        var sum = Ops.SumLastAxis(output.TokenLogProbs);
        if (!lengthNormalize) return sum;
        var inv = Tape.NewTensor(new Shape(batch.Size));
        for (int i = 0; i < batch.Size; i++) inv[i] = 1f / Math.Max(1, batch.CompletionLengths[i]);
        return Ops.Mul(sum, inv);
    }

    /// <summary>
    /// log π(completionᵢ | promptᵢ) for every pair, no gradient, <paramref name="batchSize"/> pairs at a
    /// time on a non-recording tape (the same sums as <see cref="SequenceLogProbs"/> in training).
    /// </summary>
    public static double[] ScoreSequences(this IPolicyModel policy, IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions,
        int batchSize, bool lengthNormalize = false)
    {
        if (prompts.Count != completions.Count) throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size {batchSize} must be at least 1");
        var result = new double[prompts.Count];
        using var tape = new Tape(recording: false);
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, prompts.Count - start);
            var p = new int[n][];
            var c = new int[n][];
            for (int i = 0; i < n; i++) { p[i] = prompts[start + i]; c[i] = completions[start + i]; }
            using var batch = policy.CreateBatch(p, c);
            using (tape.Activate())
            {
                var lp = SequenceLogProbs(policy.Forward(batch), batch, lengthNormalize);
                for (int i = 0; i < n; i++) result[start + i] = lp[i];
            }
            tape.Reset();
        }
        return result;
    }
}
