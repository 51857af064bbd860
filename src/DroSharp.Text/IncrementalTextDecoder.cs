namespace DroSharp.Text;

/// <summary>
/// Turns generated token ids, one at a time, into text to print as it comes (transformers' <c>TextStreamer</c>):
/// after each id the ids so far are decoded whole and the new text is released up to its last space or line
/// break (or through a CJK character, which stands alone) — a decoder may still change the last word (a byte-level
/// BPE token may end inside a multi-byte character, WordPiece joins "##" pieces and closes up punctuation), so it is
/// held back. Text ending in U+FFFD (an incomplete UTF-8 sequence) is never released early. <see cref="Flush"/>
/// releases the rest; the concatenation of all releases is the decoding of all ids.
/// </summary>
public sealed class IncrementalTextDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private string _released = "";

    public IncrementalTextDecoder(Tokenizer tokenizer, bool skipSpecialTokens = true)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>The ids added so far.</summary>
    public IReadOnlyList<int> Ids => _ids;

    /// <summary>The decoding of every id added so far.</summary>
    public string Text => _tokenizer.Decode(_ids, _skipSpecialTokens);

    /// <summary>Adds one id; returns the text that is now final (often empty).</summary>
    public string Add(int id)
    {
        _ids.Add(id);
        string text = Text;
        int printed = _released.Length;
        if (!text.StartsWith(_released, StringComparison.Ordinal)) return ""; // the decoder rewrote released text: wait for more
        int end = text.Length;
        while (end > printed && text[end - 1] == '\uFFFD') end--;
        if (end == text.Length && end > printed && (text[end - 1] == '\n' || IsCjk(text, end - 1))) return Release(text, end);
        int cut = text.AsSpan(printed, end - printed).LastIndexOfAny(' ', '\n');
        return cut < 0 ? "" : Release(text, printed + cut + 1);
    }

    /// <summary>The text not yet released (at the end of generation).</summary>
    public string Flush()
    {
        string text = Text;
        if (!text.StartsWith(_released, StringComparison.Ordinal))
        {
            // The decoder rewrote text already printed (e.g. WordPiece closing up a quote): print what follows the common part.
            int common = 0;
            while (common < Math.Min(text.Length, _released.Length) && text[common] == _released[common]) common++;
            _released = text;
            return text[common..];
        }
        return text.Length <= _released.Length ? "" : Release(text, text.Length);
    }

    private string Release(string text, int end)
    {
        string piece = text[_released.Length..end];
        _released = text[..end];
        return piece;
    }

    /// <summary>transformers' <c>_is_chinese_char</c>: the CJK Unified Ideographs blocks and their compatibility forms.</summary>
    private static bool IsCjk(string s, int index)
    {
        int cp = char.IsLowSurrogate(s[index]) && index > 0 && char.IsHighSurrogate(s[index - 1]) ? char.ConvertToUtf32(s[index - 1], s[index]) : s[index];
        return cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
    }
}
