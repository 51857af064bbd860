using DroSharp.Tensors;

namespace DroSharp.Models;

/// <summary>
/// Token-by-token decoding of a batch of prompts with a key/value cache, made by
/// <see cref="IPolicyModel.StartDecoding"/>. The model's own attention modules read and extend the
/// cache, so decoding runs the same block code as training. Returned logits are valid until the next
/// call. Rows advance together; a finished row is fed the pad id by the caller.
/// </summary>
public interface IIncrementalDecoder : IDisposable
{
    int BatchSize { get; }

    /// <summary>Runs the prompts; logits [B, vocab] of the first new token of every row.</summary>
    Tensor Start();

    /// <summary>Appends one token per row; logits [B, vocab] of the next token.</summary>
    Tensor Step(int[] tokens);
}
