using DroSharp.Tensors;

namespace DroSharp.Models.T5;

/// <summary>
/// A right-padded batch of (prompt, response) token sequences in the layout the T5 model consumes.
/// PromptIds [B·P], PromptMask [B, P] (1 = token, 0 = pad); DecoderInputIds [B·R] =
/// shift_right(response) = [start, y₀ … y_{R−2}]; Targets [B·R] = response ids, −1 at padding
/// (no log-prob, no gradient).
/// </summary>
public sealed class Seq2SeqBatch : IDisposable
{
    public int Size { get; }
    public int PromptLength { get; }
    public int ResponseLength { get; }
    public int[] PromptIds { get; }
    public Tensor PromptMask { get; }
    public int[] DecoderInputIds { get; }
    public int[] Targets { get; }
    /// <summary>Number of real response tokens per example.</summary>
    public int[] ResponseLengths { get; }
    /// <summary>Number of real prompt tokens per example.</summary>
    public int[] PromptLengths { get; }

    private Seq2SeqBatch(int size, int p, int r)
    {
        Size = size;
        PromptLength = p;
        ResponseLength = r;
        PromptIds = new int[size * p];
        PromptMask = Tensor.Zeros(new Shape(size, p));
        DecoderInputIds = new int[size * r];
        Targets = new int[size * r];
        ResponseLengths = new int[size];
        PromptLengths = new int[size];
    }

    /// <summary>
    /// Pads prompts to the longest prompt (or <paramref name="promptLength"/>) and responses to the
    /// longest response (or <paramref name="responseLength"/>). Sequences are used as given: no EOS is added.
    /// </summary>
    public static Seq2SeqBatch Create(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> responses,
        int padTokenId, int decoderStartTokenId, int? promptLength = null, int? responseLength = null)
    {
        if (prompts.Count != responses.Count) throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses");
        if (prompts.Count == 0) throw new ArgumentException("empty batch");
        int p = promptLength ?? Math.Max(1, prompts.Max(x => x.Length));
        int r = responseLength ?? Math.Max(1, responses.Max(x => x.Length));
        var b = new Seq2SeqBatch(prompts.Count, p, r);
        for (int i = 0; i < prompts.Count; i++)
        {
            var pr = prompts[i];
            var rs = responses[i];
            if (pr.Length > p) throw new ArgumentException($"prompt {i} has {pr.Length} tokens, more than the batch length {p}");
            if (rs.Length > r) throw new ArgumentException($"response {i} has {rs.Length} tokens, more than the batch length {r}");
            if (pr.Length == 0) throw new ArgumentException($"prompt {i} is empty");
            b.PromptLengths[i] = pr.Length;
            b.ResponseLengths[i] = rs.Length;
            for (int t = 0; t < p; t++)
            {
                b.PromptIds[i * p + t] = t < pr.Length ? pr[t] : padTokenId;
                b.PromptMask[i * p + t] = t < pr.Length ? 1f : 0f;
            }
            for (int t = 0; t < r; t++)
            {
                b.Targets[i * r + t] = t < rs.Length ? rs[t] : -1;
                // shift right; positions past the response see pad (HF replaces −100 by pad)
                b.DecoderInputIds[i * r + t] = t == 0 ? decoderStartTokenId : (t - 1 < rs.Length ? rs[t - 1] : padTokenId);
            }
        }
        return b;
    }

    public int TotalResponseTokens => ResponseLengths.Sum();

    public void Dispose() => PromptMask.Dispose();
}
