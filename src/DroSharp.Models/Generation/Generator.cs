using DroSharp.Tensors;
using DroSharp.Tensors.Autograd;

namespace DroSharp.Models.Generation;

/// <summary>
/// Batched sampling from any policy: the model's incremental decoder gives the logits, a
/// <see cref="TokenSampler"/> picks each row's next token. A row stops at any of the model's stop ids
/// (kept in the output) or after <see cref="GenerationOptions.MaxNewTokens"/>; finished rows are fed
/// the pad id until every row is done. Without the cache every step recomputes the whole prefix with
/// <see cref="IPolicyModel.NextTokenLogits"/> (the reference the cache is tested against).
/// </summary>
public sealed unsafe class Generator
{
    private readonly IPolicyModel _model;

    public Generator(IPolicyModel model) => _model = model;

    /// <summary>Completions (token ids) for each prompt, in order.</summary>
    /// <param name="onToken">Called with (row, token) as each token is chosen, e.g. to stream a reply as it is produced.</param>
    public List<int[]> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options, bool useCache = true, Action<int, int>? onToken = null)
    {
        options.Validate();
        if (prompts.Count == 0) return new List<int[]>();
        var sampler = new TokenSampler(options);
        var tokens = _model.Tokens;
        int b = prompts.Count;
        var outputs = new List<int>[b];
        for (int i = 0; i < b; i++) outputs[i] = new List<int>();
        var done = new bool[b];
        var current = new int[b];

        using var decoder = useCache ? _model.StartDecoding(prompts, options.MaxNewTokens) : null;
        using var tape = new Tape(recording: false);
        for (int t = 0; t < options.MaxNewTokens; t++)
        {
            tape.Reset();
            using (tape.Activate())
            {
                Tensor logits = decoder is null
                    ? _model.NextTokenLogits(prompts, outputs.Select(o => o.ToArray()).ToList())
                    : t == 0 ? decoder.Start() : decoder.Step(current);
                int vocab = logits.Shape[1];
                bool all = true;
                for (int i = 0; i < b; i++)
                {
                    if (done[i]) { current[i] = tokens.PadId; continue; }
                    int next = sampler.Next(new ReadOnlySpan<float>(logits.Data + (long)i * vocab, vocab));
                    outputs[i].Add(next);
                    current[i] = next;
                    onToken?.Invoke(i, next);
                    if (tokens.IsStop(next)) done[i] = true;
                    all &= done[i];
                }
                if (all) break;
            }
        }
        return outputs.Select(o => o.ToArray()).ToList();
    }
}
