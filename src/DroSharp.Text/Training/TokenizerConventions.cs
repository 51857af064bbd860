namespace DroSharp.Text.Training;

/// <summary>Which special tokens a trained tokenizer adds to every encoding, as the two model families expect.</summary>
public enum TokenizerConventions
{
    /// <summary>T5's: <c>&lt;/s&gt;</c> appended to every text (prompt and completion alike).</summary>
    T5,

    /// <summary>
    /// A decoder-only model's (Llama's): <c>&lt;s&gt;</c> (BOS) in front of every text; completions get the EOS
    /// <c>&lt;/s&gt;</c> from the batcher, not from the tokenizer.
    /// </summary>
    Decoder,
}
