namespace DroSharp.Text;

/// <summary>The result of <see cref="Tokenizer.Encode"/>: ids, their token strings, and which were added as special tokens.</summary>
public sealed class TokenEncoding
{
    internal TokenEncoding(int[] ids, string[] tokens, bool[] specialTokensMask)
    {
        Ids = ids;
        Tokens = tokens;
        SpecialTokensMask = specialTokensMask;
    }

    public int[] Ids { get; }
    public string[] Tokens { get; }

    /// <summary>True where the post-processor inserted the token (e.g. T5's trailing <c>&lt;/s&gt;</c>).</summary>
    public bool[] SpecialTokensMask { get; }

    public int Count => Ids.Length;
}
