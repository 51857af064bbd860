namespace DroSharp.Models;

/// <summary>What a tokenizer says about the ids a new model must use (<c>dro init --tokenizer</c>).</summary>
/// <param name="VocabSize">The tokenizer's vocabulary size (largest id + 1).</param>
public sealed record TokenizerIds(int VocabSize, int? PadId, int? EosId, int? BosId);
