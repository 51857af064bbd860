using DroSharp.Tensors;

namespace DroSharp.Models;

/// <summary>
/// A language model as the trainer, scorer and generator see it, whatever its family: batches,
/// log-probs on the tape, prompt features for a value head, incremental decoding, its parameters
/// (with the trainable flag, <c>RequiresGrad</c>) and files.
/// </summary>
public interface IPolicyModel : IDisposable
{
    IModelFamily Family { get; }

    IModelConfig Config { get; }

    ParameterSet Parameters { get; }

    SpecialTokens Tokens { get; }

    /// <summary>The family's initialisation (as transformers' <c>_init_weights</c>), drawn in parameter order.</summary>
    void InitializeWeights(DeterministicRandom rng);

    /// <summary>The batcher: right-padded (prompt, completion) rows in this family's layout.</summary>
    SequenceBatch CreateBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions);

    /// <summary>
    /// Token log-probs of the batch's completions (and, when asked, the prompt features a value head
    /// reads), recorded on the current tape.
    /// </summary>
    PolicyOutput Forward(SequenceBatch batch, bool withPromptFeatures = false);

    /// <summary>
    /// Logits [B, vocab] of the token after each (prompt ⧺ prefix), by a full forward pass without any
    /// cache (the reference the incremental decoder is tested against).
    /// </summary>
    Tensor NextTokenLogits(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> prefixes);

    /// <summary>The matrix-product FLOPs of <see cref="Forward"/> on <paramref name="batch"/>, as this implementation computes it.</summary>
    MatmulFlops ForwardFlops(SequenceBatch batch);

    /// <summary>Starts cached decoding of <paramref name="prompts"/> for at most <paramref name="maxNewTokens"/> tokens.</summary>
    IIncrementalDecoder StartDecoding(IReadOnlyList<int[]> prompts, int maxNewTokens);

    /// <summary>Writes an HF model directory: config.json, weights (and the family's other files); other files are left alone.</summary>
    void Save(string directory);
}
