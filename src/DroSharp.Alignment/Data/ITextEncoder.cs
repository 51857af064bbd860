namespace DroSharp.Alignment.Data;

/// <summary>
/// Turns text into the token ids the model consumes, special tokens included (e.g. T5's trailing <c>&lt;/s&gt;</c>).
/// The tokenizer lives elsewhere; anything with this shape plugs in.
/// </summary>
public interface ITextEncoder
{
    int[] Encode(string text);

    /// <summary>Wraps a delegate, e.g. <c>ITextEncoder.From(tokenizer.Encode)</c>.</summary>
    static ITextEncoder From(Func<string, int[]> encode) => new DelegateTextEncoder(encode);
}

internal sealed class DelegateTextEncoder(Func<string, int[]> encode) : ITextEncoder
{
    private readonly Func<string, int[]> _encode = encode ?? throw new ArgumentNullException(nameof(encode));

    public int[] Encode(string text) => _encode(text);
}
