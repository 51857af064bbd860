namespace DroSharp.Text.PreTokenizers;

/// <summary>Turns a list of matches into pieces according to a <see cref="SplitBehavior"/> (HF <c>NormalizedString::split</c>).</summary>
internal static class Splitter
{
    /// <param name="matches">Sorted, non-overlapping [start, end) ranges of delimiters in <paramref name="piece"/>.</param>
    /// <param name="invert">Treat the gaps as the delimiters and the matches as content.</param>
    public static void Split(PreToken piece, List<(int Start, int End)> matches, SplitBehavior behavior, bool invert, List<PreToken> output)
    {
        string text = piece.Text;
        if (text.Length == 0) return;
        // Cover the text with (range, isDelimiter) spans.
        var spans = new List<(int Start, int End, bool IsMatch)>(matches.Count * 2 + 1);
        int prev = 0;
        foreach (var (s, e) in matches)
        {
            if (prev != s) spans.Add((prev, s, invert));
            spans.Add((s, e, !invert));
            prev = e;
        }
        if (prev != text.Length) spans.Add((prev, text.Length, invert));

        var pieces = new List<(int Start, int End)>(spans.Count);
        switch (behavior)
        {
            case SplitBehavior.Removed:
                foreach (var sp in spans) if (!sp.IsMatch) pieces.Add((sp.Start, sp.End));
                break;
            case SplitBehavior.Isolated:
                foreach (var sp in spans) pieces.Add((sp.Start, sp.End));
                break;
            case SplitBehavior.MergedWithPrevious:
            {
                bool previousMatch = false;
                foreach (var sp in spans)
                {
                    if (sp.IsMatch && !previousMatch && pieces.Count > 0)
                        pieces[^1] = (pieces[^1].Start, sp.End);
                    else
                        pieces.Add((sp.Start, sp.End));
                    previousMatch = sp.IsMatch;
                }
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                bool previousMatch = false;
                for (int i = spans.Count - 1; i >= 0; i--)
                {
                    var sp = spans[i];
                    if (sp.IsMatch && !previousMatch && pieces.Count > 0)
                        pieces[^1] = (sp.Start, pieces[^1].End);
                    else
                        pieces.Add((sp.Start, sp.End));
                    previousMatch = sp.IsMatch;
                }
                pieces.Reverse();
                break;
            }
            case SplitBehavior.Contiguous:
            {
                bool previousMatch = false;
                foreach (var sp in spans)
                {
                    if (sp.IsMatch == previousMatch && pieces.Count > 0)
                        pieces[^1] = (pieces[^1].Start, sp.End);
                    else
                        pieces.Add((sp.Start, sp.End));
                    previousMatch = sp.IsMatch;
                }
                break;
            }
        }

        foreach (var (s, e) in pieces)
        {
            if (e > s)
                output.Add(new PreToken(s == 0 && e == text.Length ? text : text.Substring(s, e - s), piece.AtStart && s == 0));
        }
    }

    /// <summary>Each code point satisfying <paramref name="isDelimiter"/> is one match (HF's char-predicate pattern).</summary>
    public static void FindCharMatches(string text, Func<int, bool> isDelimiter, List<(int Start, int End)> matches)
    {
        for (int i = 0; i < text.Length;)
        {
            int cp = Utf16.CodePointAt(text, i, out int w);
            if (isDelimiter(cp)) matches.Add((i, i + w));
            i += w;
        }
    }

    public static SplitBehavior ParseBehavior(string name) => name switch
    {
        "Removed" => SplitBehavior.Removed,
        "Isolated" => SplitBehavior.Isolated,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        _ => throw new FormatException($"unknown split behavior \"{name}\""),
    };
}
