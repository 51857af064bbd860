using DroSharp.Tensors;

namespace DroSharp.Models;

/// <summary>
/// What a policy's forward pass gives, on the current tape.
/// </summary>
/// <param name="TokenLogProbs">log π(y_t | x, y_&lt;t) per completion position, 0 at padding: [B, R].</param>
/// <param name="PromptFeatures">
/// The backbone's summary of each prompt that a value head reads, [B, hidden] (T5: the encoder states
/// mean-pooled over the prompt; a decoder: the hidden state at the last prompt token), or null when
/// it was not asked for.
/// </param>
public sealed record PolicyOutput(Tensor TokenLogProbs, Tensor? PromptFeatures);
