using DroSharp.Tensors;

namespace DroSharp.Models.Decoder;

/// <summary>
/// A decoder-only batch as TRL builds it: each row is prompt ⧺ completion, right-padded to T (the
/// longest row) with the pad id; positions 0 … T − 1; the key mask marks real tokens. Completion token
/// j of row b is predicted by the hidden state at position P_b − 1 + j, so only those rows of the hidden
/// states go through the LM head: <see cref="LogitRows"/> [B·R] (flat indices into [B·T]), with
/// <see cref="Targets"/> [B·R] (−1 past a row's completion: no log-prob, no gradient).
/// </summary>
public sealed class CausalBatch : SequenceBatch
{
    public CausalBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int padId, int? completionLength = null)
        : base(prompts, completions, completionLength)
    {
        int b = Size, r = CompletionLength;
        RowLengths = new int[b];
        for (int i = 0; i < b; i++) RowLengths[i] = PromptLengths[i] + CompletionLengths[i];
        Length = RowLengths.Max();
        int t = Length;
        InputIds = new int[b * t];
        Positions = new int[b * t];
        LogitRows = new int[b * r];
        Targets = new int[b * r];
        PromptLastRows = new int[b];
        bool padded = false;
        for (int i = 0; i < b; i++)
        {
            var p = prompts[i];
            var c = completions[i];
            for (int j = 0; j < t; j++)
            {
                InputIds[i * t + j] = j < p.Length ? p[j] : j - p.Length < c.Length ? c[j - p.Length] : padId;
                Positions[i * t + j] = j;
            }
            padded |= RowLengths[i] < t;
            PromptLastRows[i] = i * t + p.Length - 1;
            for (int j = 0; j < r; j++)
            {
                bool real = j < c.Length;
                // Past the completion: any row of this sequence (its last real one); the target −1 ignores it.
                LogitRows[i * r + j] = i * t + (real ? p.Length - 1 + j : RowLengths[i] - 1);
                Targets[i * r + j] = real ? c[j] : -1;
            }
        }
        if (padded)
        {
            KeyMask = Tensor.Zeros(new Shape(b, t));
            for (int i = 0; i < b; i++)
                for (int j = 0; j < RowLengths[i]; j++) KeyMask[i * t + j] = 1f;
        }
    }

    /// <summary>T, the padded row length.</summary>
    public int Length { get; }

    /// <summary>P_b + R_b, the real tokens of each row.</summary>
    public int[] RowLengths { get; }

    /// <summary>[B·T] prompt ⧺ completion ⧺ padding.</summary>
    public int[] InputIds { get; }

    /// <summary>[B·T] position of each token (0 … T − 1 in every row).</summary>
    public int[] Positions { get; }

    /// <summary>[B, T], 1 = token, 0 = padding; null when no row is padded.</summary>
    public Tensor? KeyMask { get; }

    /// <summary>[B·R] the flat hidden-state rows whose logits predict the completion tokens.</summary>
    public int[] LogitRows { get; }

    /// <summary>[B·R] completion ids, −1 past each row's completion.</summary>
    public int[] Targets { get; }

    /// <summary>[B] the flat hidden-state row of each prompt's last token (what a value head reads).</summary>
    public int[] PromptLastRows { get; }

    public override void Dispose()
    {
        KeyMask?.Dispose();
        base.Dispose();
    }
}
