namespace DroSharp.Text;

/// <summary>
/// A token matched in the raw text before the model runs (tokenizer.json <c>added_tokens</c>).
/// <see cref="Normalized"/> false: matched against the original text; true: against the normalized text.
/// <see cref="Special"/> tokens are dropped by <see cref="Tokenizer.Decode"/> with <c>skipSpecialTokens</c>.
/// </summary>
public sealed record AddedToken(
    int Id,
    string Content,
    bool SingleWord = false,
    bool LStrip = false,
    bool RStrip = false,
    bool Normalized = false,
    bool Special = true);
