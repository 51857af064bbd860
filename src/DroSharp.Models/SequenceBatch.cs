namespace DroSharp.Models;

/// <summary>
/// A batch of (prompt, completion) token sequences in a family's own layout (made by
/// <see cref="IPolicyModel.CreateBatch"/>: T5's encoder input and shifted decoder input; a decoder's
/// prompt ⧺ completion with positions). What every family's batch shares is here.
/// </summary>
public abstract class SequenceBatch : IDisposable
{
    /// <param name="completionLength">Pad completions to this length instead of the longest one.</param>
    protected SequenceBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int? completionLength = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(completions);
        if (prompts.Count != completions.Count) throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions");
        if (prompts.Count == 0) throw new ArgumentException("empty batch");
        Size = prompts.Count;
        PromptLengths = new int[Size];
        CompletionLengths = new int[Size];
        for (int i = 0; i < Size; i++)
        {
            if (prompts[i].Length == 0) throw new ArgumentException($"prompt {i} of the batch is empty");
            PromptLengths[i] = prompts[i].Length;
            CompletionLengths[i] = completions[i].Length;
        }
        CompletionLength = Math.Max(1, CompletionLengths.Max());
        if (completionLength is int r)
        {
            if (r < CompletionLength) throw new ArgumentException($"a completion has {CompletionLength} tokens, more than the batch length {r}");
            CompletionLength = r;
        }
    }

    /// <summary>B, the number of rows.</summary>
    public int Size { get; }

    /// <summary>R, the padded completion length: token log-probs come as [B, R].</summary>
    public int CompletionLength { get; }

    /// <summary>Real prompt tokens per row.</summary>
    public int[] PromptLengths { get; }

    /// <summary>Real completion tokens per row (log π(y|x) sums these positions).</summary>
    public int[] CompletionLengths { get; }

    /// <summary>Real tokens in the batch, prompts and completions (for tokens/s).</summary>
    public long TokenCount => PromptLengths.Sum(x => (long)x) + CompletionLengths.Sum(x => (long)x);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
