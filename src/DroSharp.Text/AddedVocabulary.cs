namespace DroSharp.Text;

/// <summary>
/// Finds added tokens in text (HF <c>AddedVocabulary::find_matches</c>): leftmost-longest, non-overlapping;
/// a <c>single_word</c> token must not touch word characters on either side (a rejected match is still
/// consumed), <c>lstrip</c>/<c>rstrip</c> swallow the whitespace on that side.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Dictionary<char, AddedToken[]> _raw;        // normalized: false, by first character
    private readonly Dictionary<char, AddedToken[]> _normalized; // normalized: true, content normalized

    public AddedVocabulary(IReadOnlyList<AddedToken> tokens, Func<string, string>? normalize)
    {
        Tokens = tokens;
        _raw = Index(tokens.Where(t => !t.Normalized).Select(t => (t, t.Content)));
        _normalized = Index(tokens.Where(t => t.Normalized).Select(t => (t, normalize?.Invoke(t.Content) ?? t.Content)));
        foreach (var t in tokens)
        {
            ById[t.Id] = t;
            ByContent[t.Content] = t;
        }
    }

    public IReadOnlyList<AddedToken> Tokens { get; }
    public Dictionary<int, AddedToken> ById { get; } = new();
    public Dictionary<string, AddedToken> ByContent { get; } = new();
    public bool HasNormalizedTokens => _normalized.Count > 0;

    private static Dictionary<char, AddedToken[]> Index(IEnumerable<(AddedToken Token, string Pattern)> tokens)
    {
        // Tokens are matched against Pattern; order candidates longest first.
        return tokens.Where(x => x.Pattern.Length > 0)
            .GroupBy(x => x.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.Pattern.Length)
                .Select(x => x.Token with { Content = x.Pattern }).ToArray());
    }

    /// <summary>Splits <paramref name="text"/> into segments: (start, end, token or null).</summary>
    public List<(int Start, int End, AddedToken? Token)> Split(string text, bool normalizedSet)
    {
        var index = normalizedSet ? _normalized : _raw;
        var splits = new List<(int, int, AddedToken?)>();
        if (index.Count == 0 || text.Length == 0)
        {
            splits.Add((0, text.Length, null));
            return splits;
        }
        int startOffset = 0;
        int i = 0;
        while (i < text.Length)
        {
            AddedToken? match = null;
            if (index.TryGetValue(text[i], out var candidates))
            {
                foreach (var c in candidates)
                {
                    if (text.AsSpan(i).StartsWith(c.Content, StringComparison.Ordinal))
                    {
                        match = c;
                        break;
                    }
                }
            }
            if (match == null)
            {
                i++;
                continue;
            }
            int start = i, stop = i + match.Content.Length;
            i = stop;
            if (match.SingleWord)
            {
                bool startSpace = start == 0 || !IsWordChar(text, start - 1, before: true);
                bool stopSpace = stop == text.Length || !IsWordChar(text, stop, before: false);
                if (!startSpace || !stopSpace) continue;
            }
            if (match.LStrip)
            {
                int s = start;
                while (s > 0 && char.IsWhiteSpace(text[s - 1])) s--;
                start = Math.Max(s, startOffset);
            }
            if (match.RStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
                i = stop;
            }
            if (startOffset < start) splits.Add((startOffset, start, null));
            splits.Add((start, stop, ById.GetValueOrDefault(match.Id) ?? match));
            startOffset = stop;
        }
        if (startOffset != text.Length) splits.Add((startOffset, text.Length, null));
        return splits;
    }

    /// <summary>Oniguruma <c>\w</c> at the code point ending before (or starting at) <paramref name="index"/>.</summary>
    private static bool IsWordChar(string text, int index, bool before)
    {
        int at = before && index > 0 && char.IsLowSurrogate(text[index]) && char.IsHighSurrogate(text[index - 1]) ? index - 1 : index;
        return CharClasses.IsWord(Utf16.CodePointAt(text, at, out _));
    }
}
