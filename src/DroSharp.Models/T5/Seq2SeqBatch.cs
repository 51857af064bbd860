using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// A right-padded batch of (prompt, completion) token sequences in the layout T5 consumes.
/// PromptIds [B·P], PromptMask [B, P] (1 = token, 0 = pad); DecoderInputIds [B·R] =
/// shift_right(completion) = [start, y₀ … y_{R−2}]; Targets [B·R] = completion ids, −1 at padding
/// (no log-prob, no gradient). Sequences are used as given: no EOS is added.
/// </summary>
public sealed class Seq2SeqBatch : SequenceBatch
{
    /// <summary>P, the padded prompt length.</summary>
    public int PromptLength { get; }
    public int[] PromptIds { get; }
    public Tensor PromptMask { get; }
    public int[] DecoderInputIds { get; }
    public int[] Targets { get; }

    private Seq2SeqBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int padTokenId, int decoderStartTokenId,
        int? promptLength, int? completionLength)
        : base(prompts, completions, completionLength)
    {
        int size = Size, p = PromptLengths.Max(), r = CompletionLength;
        if (promptLength is int pl)
        {
            if (pl < p) throw new ArgumentException($"a prompt has {p} tokens, more than the batch length {pl}");
            p = pl;
        }
        PromptLength = p;
        PromptIds = new int[size * p];
        PromptMask = Tensor.Zeros(new Shape(size, p));
        DecoderInputIds = new int[size * r];
        Targets = new int[size * r];
        for (int i = 0; i < size; i++)
        {
            var pr = prompts[i];
            var rs = completions[i];
            for (int t = 0; t < p; t++)
            {
                PromptIds[i * p + t] = t < pr.Length ? pr[t] : padTokenId;
                PromptMask[i * p + t] = t < pr.Length ? 1f : 0f;
            }
            for (int t = 0; t < r; t++)
            {
                Targets[i * r + t] = t < rs.Length ? rs[t] : -1;
                // shift right; positions past the completion see pad (HF replaces −100 by pad)
                DecoderInputIds[i * r + t] = t == 0 ? decoderStartTokenId : (t - 1 < rs.Length ? rs[t - 1] : padTokenId);
            }
        }
    }

    /// <summary>Pads prompts to the longest prompt (or <paramref name="promptLength"/>) and completions to the longest completion (or <paramref name="completionLength"/>).</summary>
    public static Seq2SeqBatch Create(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions, int padTokenId, int decoderStartTokenId,
        int? promptLength = null, int? completionLength = null) =>
        new(prompts, completions, padTokenId, decoderStartTokenId, promptLength, completionLength);

    public override void Dispose()
    {
        PromptMask.Dispose();
        base.Dispose();
    }
}
